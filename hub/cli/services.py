"""Starting and stopping the real servers on a machine without Docker.

Neo4j runs embedded in a small launcher of ours (ops/neo4j/Launcher.java) on the Maven Central
artifacts; Redis is Debian's ``redis-server``. Both run as child processes with their data,
logs and pid files under the data directory, so ``hub down`` stops exactly what ``hub up`` started
and the test suite can run its own instances beside the demo ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import redis

from hub.settings import PROJECT_ROOT, Settings

LAUNCHER_DIR = PROJECT_ROOT / "ops" / "neo4j"


class ServiceError(RuntimeError):
    """A server would not start; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Neo4jSpec:
    home: Path
    host: str = "127.0.0.1"
    port: int = 7687
    pagecache: str = "2g"
    heap: str = "2g"


@dataclass(frozen=True, slots=True)
class RedisSpec:
    home: Path
    host: str = "127.0.0.1"
    port: int = 6379


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, seconds: float, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"process exited with code {proc.returncode} before {port} opened")
        time.sleep(0.2)
    raise ServiceError(f"nothing listens on {host}:{port} after {seconds:.0f} s")


def launcher_runtime(cache: Path) -> Path:
    """Resolve Neo4j's runtime classpath (Maven) and compile the launcher, once per pom change.

    Returns the argument file for ``java @file``. The pom's hash names the cache, so a version
    bump re-resolves and nothing stale is reused.
    """
    pom = LAUNCHER_DIR / "pom.xml"
    source = LAUNCHER_DIR / "Launcher.java"
    digest = hashlib.sha256(pom.read_bytes() + source.read_bytes()).hexdigest()[:12]
    target = cache / f"launcher-{digest}"
    argfile = target / "java.args"
    if argfile.exists():
        return argfile
    for tool in ("mvn", "javac", "java"):
        if shutil.which(tool) is None:
            raise ServiceError(f"{tool} is not installed: install a Java 17 JDK and Maven")
    target.mkdir(parents=True, exist_ok=True)
    classpath = target / "classpath.txt"
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:build-classpath",
            "-Dmdep.includeScope=runtime",
            f"-Dmdep.outputFile={classpath}",
        ],
        check=True,
    )
    cp = classpath.read_text().strip()
    classes = target / "classes"
    (target / "javac.args").write_text(f'-cp "{cp}"\n-d "{classes}"\n')
    subprocess.run(["javac", f"@{target / 'javac.args'}", str(source)], check=True)
    argfile.with_suffix(".tmp").write_text(f'-cp "{classes}:{cp}"\n')
    argfile.with_suffix(".tmp").rename(argfile)
    return argfile


def neo4j_command(spec: Neo4jSpec, argfile: Path) -> list[str]:
    return [
        "java",
        f"-Xmx{spec.heap}",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        f"@{argfile}",
        "Launcher",
        str(spec.home),
        spec.host,
        str(spec.port),
        spec.pagecache,
    ]


def redis_command(spec: RedisSpec) -> list[str]:
    if shutil.which("redis-server") is None:
        raise ServiceError("redis-server is not installed: run `make up` (apt-get install it)")
    # Append-only file, fsync every second: a Redis restart keeps queued tasks.
    return [
        "redis-server",
        "--bind",
        spec.host,
        "--port",
        str(spec.port),
        "--dir",
        str(spec.home),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--protected-mode",
        "yes",
    ]


def spawn(
    command: Sequence[str], log: Path, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a process in its own session (a terminal's ^C does not reach it), logging to a file."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=PROJECT_ROOT,
            env={**os.environ, **(env or {})},
        )


def spawn_rotated(command: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    """Like :func:`spawn`, with the output piped through hub/logpipe.py, which rotates the
    file by size; the pipe ends when the process does, however it ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pump = subprocess.Popen(
        [sys.executable, "-m", "hub.logpipe", str(log)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # holding the caller's stderr would keep its reader waiting
        start_new_session=True,
        cwd=PROJECT_ROOT,
    )
    assert pump.stdin is not None
    try:
        return subprocess.Popen(
            list(command),
            stdout=pump.stdin,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=PROJECT_ROOT,
        )
    finally:
        pump.stdin.close()  # the process holds the write end now; its exit ends the pipe


def start_neo4j(spec: Neo4jSpec, cache: Path, log: Path) -> subprocess.Popen[bytes]:
    def command() -> list[str]:
        return neo4j_command(spec, launcher_runtime(cache))

    where = (spec.host, spec.port, "HUB_NEO4J_URI")
    return _start_server("Neo4j", where, spec.home, command, log, seconds=180)


def hostport(url: str, default: int) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or default


def neo4j_spec(settings: Settings) -> Neo4jSpec:
    """The local Neo4j the settings point at, with its home under the data directory."""
    host, port = hostport(settings.neo4j_uri, 7687)
    return Neo4jSpec(
        settings.data_dir / "neo4j", host, port, settings.neo4j_pagecache, settings.neo4j_heap
    )


def start_stores(settings: Settings, say: Callable[[str], None]) -> None:
    """Start the local Neo4j and Redis the settings point at, unless they run already (their
    pid files under the data directory say so)."""
    run_dir, logs = settings.data_dir / "run", settings.data_dir / "logs"
    if not read_pid(run_dir, "neo4j"):
        spec = neo4j_spec(settings)
        say(
            f"neo4j: starting on {spec.host}:{spec.port} (first start resolves Maven "
            "artifacts, a few minutes)"
        )
        proc = start_neo4j(spec, settings.data_dir / "cache", logs / "neo4j.log")
        write_pid(run_dir, "neo4j", proc.pid)
    if not read_pid(run_dir, "redis"):
        host, port = hostport(settings.redis_url, 6379)
        say(f"redis: starting on {host}:{port}")
        proc = start_redis(RedisSpec(settings.data_dir / "redis", host, port), logs / "redis.log")
        write_pid(run_dir, "redis", proc.pid)


def store_files(spec: Neo4jSpec) -> Path:
    """Where the graph's store lives under the Neo4j home (the default database's)."""
    return spec.home / "data" / "databases" / "neo4j"


def bulk_import(spec: Neo4jSpec, cache: Path, sources: Sequence[str], report: Path) -> None:
    """Run Neo4j's bulk importer (``neo4j-admin database import full``) into the store under
    ``spec.home``, which must be stopped and hold no graph; its progress goes to standard error.
    ``sources`` are its ``--nodes``/``--relationships`` options."""
    argfile = launcher_runtime(cache)
    conf = spec.home / "neo4j.conf"
    command = [
        "java",
        f"-Xmx{spec.heap}",
        "-XX:+UseG1GC",
        f"@{argfile}",
        "org.neo4j.cli.AdminTool",
        "database",
        "import",
        "full",
        "neo4j",  # the database, first: the file options take every word after them
        "--array-delimiter=U+001F",
        f"--max-off-heap-memory={spec.pagecache}",
        f"--report-file={report}",
        *([f"--additional-config={conf}"] if conf.is_file() else []),
        *sources,
    ]
    spec.home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEO4J_HOME": str(spec.home), "NEO4J_CONF": str(spec.home / "conf")}
    done = subprocess.run(command, env=env, stdout=sys.stderr, check=False)
    if done.returncode != 0:
        # What it wrote is no graph; gone, the store can be built again.
        shutil.rmtree(store_files(spec), ignore_errors=True)
        shutil.rmtree(spec.home / "data" / "transactions" / "neo4j", ignore_errors=True)
        raise ServiceError(
            f"the bulk importer failed (exit {done.returncode}): see its output above and {report}"
        )


def start_redis(spec: RedisSpec, log: Path) -> subprocess.Popen[bytes]:
    """Start Redis and wait until it answers: it listens before it has loaded its data, and
    answers LOADING to every command meanwhile (seconds, with a large append-only file)."""
    where = (spec.host, spec.port, "HUB_REDIS_URL")
    proc = _start_server("Redis", where, spec.home, lambda: redis_command(spec), log, seconds=30)
    deadline = time.monotonic() + 60
    client = redis.Redis(spec.host, spec.port, socket_timeout=5)
    try:
        while True:
            try:
                client.ping()
                return proc
            except redis.BusyLoadingError:
                if time.monotonic() > deadline:
                    stop_process(proc.pid)
                    raise ServiceError(
                        f"Redis still loading its data after 60 s; see {log}"
                    ) from None
                time.sleep(0.1)
    finally:
        client.close()


def _start_server(
    name: str,
    where: tuple[str, int, str],
    home: Path,
    command: Callable[[], list[str]],
    log: Path,
    *,
    seconds: float,
) -> subprocess.Popen[bytes]:
    """Start a server and wait until it listens at ``where`` (host, port, and the setting that
    picks another port); the command is made only once the port is known to be free."""
    host, port, setting = where
    if port_open(host, port):
        raise ServiceError(f"port {port} is taken: stop its user or pick another port in {setting}")
    home.mkdir(parents=True, exist_ok=True)
    proc = spawn(command(), log)
    try:
        wait_port(host, port, seconds, proc)
    except ServiceError as exc:
        stop_process(proc.pid)
        raise ServiceError(f"{name} did not start ({exc}); see {log}") from None
    return proc


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child has exited; reap it
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def stop_process(pid: int, timeout: float = 60.0) -> bool:
    """SIGTERM the process group, wait for a clean exit, SIGKILL after ``timeout``."""
    return bool(stop_processes([pid], timeout))


def stop_processes(pids: list[int], timeout: float = 60.0) -> list[int]:
    """SIGTERM every process group at once and wait for them together (their shutdowns overlap
    instead of adding up), SIGKILL those left after ``timeout``; the pids that were running."""
    stopping = []
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
                stopping.append(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(pid) for pid in stopping):
        time.sleep(0.1)
    for pid in stopping:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    return stopping


def write_pid(run_dir: Path, name: str, pid: int) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / f"{name}.pid").write_text(str(pid))


def read_pid(run_dir: Path, name: str) -> int | None:
    try:
        pid = int((run_dir / f"{name}.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) else None


def stop_named(run_dir: Path, names: list[str], timeout: float = 60.0) -> dict[str, bool]:
    """Stop the named services together; for each, whether it was running."""
    pids = {name: read_pid(run_dir, name) for name in names}
    for name in names:
        (run_dir / f"{name}.pid").unlink(missing_ok=True)
    stopped = stop_processes([pid for pid in pids.values() if pid is not None], timeout)
    return {name: pid in stopped for name, pid in pids.items()}
