"""The soak's own stack: Neo4j, Redis, two API processes, a worker and beat, on free ports under
``.data/soak``, each of which the soak can kill or restart while the load runs.

Importing this module points every ``HUB_*`` setting of this process and its children at that
stack, so it must come before anything reads the settings; the fixed ports of bench/run.py
stay free for the other benchmarks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "soak"
LOGS = DATA / "logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORTS = {"neo4j": free_port(), "redis": free_port(), "api-1": free_port(), "api-2": free_port()}
os.environ.update(
    HUB_DATA_DIR=str(DATA),
    HUB_NEO4J_URI=f"bolt://127.0.0.1:{PORTS['neo4j']}",
    HUB_REDIS_URL=f"redis://127.0.0.1:{PORTS['redis']}/0",
    HUB_HOST="127.0.0.1",
    HUB_PORT=str(PORTS["api-1"]),
    HUB_ENV="benchmark",  # GraphiQL off like production; local dev tokens still accepted
)

from hub.cli import services  # noqa: E402  (after the environment is set)
from hub.cli.stack import api_ready  # noqa: E402

HUB = [sys.executable, "-m", "hub"]


def hub(*args: str) -> None:
    """Run a `hub` command against the soak's stack; its output goes to the soak's log."""
    with (LOGS / "commands.log").open("ab") as log:
        subprocess.run([*HUB, *args], check=True, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


@dataclass
class Stack:
    """What runs, by name (neo4j, redis, api-1, api-2, worker, beat), and how to start each."""

    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def apis(self) -> list[str]:
        return [f"http://127.0.0.1:{PORTS[name]}" for name in ("api-1", "api-2")]

    def start(self, name: str) -> None:
        if name == "neo4j":
            spec = services.Neo4jSpec(
                DATA / "neo4j", port=PORTS["neo4j"], pagecache="512m", heap="1g"
            )
            self.procs[name] = services.start_neo4j(
                spec, ROOT / ".data" / "cache", LOGS / "neo4j.log"
            )
        elif name == "redis":
            redis = services.RedisSpec(DATA / "redis", port=PORTS["redis"])
            self.procs[name] = services.start_redis(redis, LOGS / "redis.log")
        elif name.startswith("api-"):
            self.procs[name] = services.spawn(
                [*HUB, "serve", "--workers", "1"], LOGS / f"{name}.log",
                env={"HUB_PORT": str(PORTS[name])},
            )  # fmt: skip
            ready(f"http://127.0.0.1:{PORTS[name]}", LOGS / f"{name}.log")
        elif name == "worker":
            self.procs[name] = services.spawn(
                [*HUB, "worker", "--concurrency", "2"], LOGS / "worker.log"
            )
        elif name == "beat":
            self.procs[name] = services.spawn([*HUB, "beat"], LOGS / "beat.log")
        else:
            raise ValueError(name)

    def kill(self, name: str) -> None:
        """SIGKILL the process and its group (a worker's pool too), as a crash would."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, name: str) -> None:
        """Stop cleanly (SIGTERM, then SIGKILL after a minute), as an operator's restart does."""
        proc = self.procs.pop(name)
        services.stop_process(proc.pid, timeout=60)
        proc.wait(timeout=10)

    def down(self) -> None:
        clients = [n for n in ("api-1", "api-2", "worker", "beat") if n in self.procs]
        services.stop_processes([self.procs.pop(n).pid for n in clients], timeout=30)
        services.stop_processes([p.pid for p in self.procs.values()], timeout=90)
        self.procs.clear()


def ready(base: str, log: Path, seconds: float = 120) -> None:
    if not api_ready(base, seconds):
        raise SystemExit(f"the API at {base} did not become ready; see {log}")


def fresh() -> None:
    """A new store each run: every check then covers exactly this run's events and audit."""
    shutil.rmtree(DATA, ignore_errors=True)
    LOGS.mkdir(parents=True)
