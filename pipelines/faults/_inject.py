"""How the faults are made: a table locked from another session, a PostgreSQL server frozen (SIGSTOP), a
process's memory read from /proc, a timed HTTP call. Shared by the scenarios and the tests of the same faults."""

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
