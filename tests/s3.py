"""An S3-compatible server for the suite: moto's, as its own process on a loopback port.

moto keeps its objects in memory, so a restart (a fault test) starts it empty and the bucket is
made again; every test that stores an object reads it back within the same test.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from connectors.storage.config import StorageConfig

BUCKET = "hub-test"
KEY_ID, SECRET = "hub-test-key", "hub-test-secret"  # moto accepts any credentials
PR_SET_PDEATHSIG = 1


def _dies_with_the_suite() -> None:
    """In the child before it runs moto: SIGKILL it when the suite's process ends, however that
    ends (its command line names nothing of the suite, so it could not be found afterwards)."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class MotoServer:
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, root: Path, prefix: str = "") -> StorageConfig:
        """A storage configuration for this server's bucket."""
        return StorageConfig(
            kind="s3", root=root, endpoint_url=self.endpoint, bucket=BUCKET,
            region="us-east-1", access_key=KEY_ID, secret_key=SECRET, prefix=prefix,
            addressing_style="path",
        )  # fmt: skip

    def env(self) -> dict[str, str]:
        """The settings of an API or worker process that stores in this server's bucket."""
        return {
            "HUB_STORAGE": "s3", "HUB_S3_ENDPOINT_URL": self.endpoint, "HUB_S3_BUCKET": BUCKET,
            "HUB_S3_REGION": "us-east-1", "HUB_S3_ACCESS_KEY": KEY_ID,
            "HUB_S3_SECRET_KEY": SECRET, "HUB_S3_ADDRESSING_STYLE": "path",
        }  # fmt: skip

    def start(self) -> None:
        """Start the server and make the bucket; ready when this returns."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_dies_with_the_suite,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                made = httpx.put(f"{self.endpoint}/{BUCKET}", timeout=2)
                if made.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"moto did not start; see {self.log}")
            time.sleep(0.2)

    def restart(self) -> None:
        """Killed and started again on the same port: empty, with its bucket made anew."""
        self.kill()
        self.start()

    def kill(self) -> None:
        """SIGKILL, as a store that falls over: whatever it held is gone."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
