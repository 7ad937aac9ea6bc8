"""Backup faults: S3 unreachable, the object store's disk full, kill -9 during `backup create` and `restore`.

Each scenario runs real backups of a real SQLite database (random rows, so dumps do not shrink) in
child processes, injects the fault and checks that nothing is lost: the database is intact, no
complete-looking partial backup exists, and every failure is a one-line error with exit code 2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipelines.bench.backup_memory import fill_sqlite

DATABASE_MIB = 24  # big enough that a dump or restore is still running when the kill lands
DEADLINE_SECONDS = 60.0


def _database(folder: Path, mib: int = DATABASE_MIB) -> str:
    return fill_sqlite(folder / "tradeops.db", mib)


def _fingerprint(url: str) -> tuple[int, str]:
    """Row count and integrity of a SQLite database (what "intact" means here)."""
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
        rows = int(connection.execute("SELECT count(*) FROM filler").fetchone()[0])
        return rows, str(connection.execute("PRAGMA quick_check").fetchone()[0])


def _tradeops(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from tradeops.cli import main; main()", *args]
    return subprocess.Popen(  # noqa: S603 - our own CLI
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
    )


def _env(folder: Path, store: str, **extra: str) -> dict[str, str]:
    return {"TRADEOPS_DATA_DIR": str(folder), "TRADEOPS_OBJECT_STORE": store, **extra}


def _wait_for(found: Callable[[], bool], process: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if found():
            return True
        time.sleep(0.005)
    return False


def _complete_backups(store: Path) -> list[str]:
    return sorted(p.parent.name for p in store.glob("backups/*/manifest.json"))


def s3_unreachable() -> dict[str, Any]:
    """Every backup command and the metrics collector answer within their deadline, exit 2, no traceback."""
    from tradeops.backup import BackupRepository
    from tradeops.backup.metrics import BackupCollector
    from tradeops.store import open_object_store

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = _database(folder, mib=1)
        with socket_nobody_listens_on() as endpoint:
            env = _env(folder, "s3://bucket/tradeops", TRADEOPS_S3_ENDPOINT_URL=endpoint)
            env |= {"AWS_ACCESS_KEY_ID": "fault", "AWS_SECRET_ACCESS_KEY": "fault", "AWS_DEFAULT_REGION": "us-east-1"}
            codes, tracebacks, slowest = {}, 0, 0.0
            for command in (["backup", "list"], ["backup", "create"], ["backup", "prune"]):
                started = time.perf_counter()
                process = _tradeops(*command, env=env)
                _, err = process.communicate(timeout=DEADLINE_SECONDS)
                slowest = max(slowest, time.perf_counter() - started)
                codes[" ".join(command)] = process.returncode
                tracebacks += "Traceback" in err
            os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
            collector = BackupCollector(BackupRepository(url, open_object_store("s3://bucket/tradeops", endpoint)))
            started = time.perf_counter()
            families = {f.name: f for f in collector.collect()}
            scrape_ms = (time.perf_counter() - started) * 1000
    errors = families["tradeops_backup_metrics_errors"].samples[0].value
    return {
        "name": "backups: S3 unreachable",
        "passed": set(codes.values()) == {2} and tracebacks == 0 and errors == 1,
        "exit_codes": codes,
        "tracebacks": tracebacks,
        "slowest_command_s": round(slowest, 2),
        "metrics_scrape_ms": round(scrape_ms, 1),
        "metrics_errors_total": errors,
    }


@contextlib.contextmanager
def socket_nobody_listens_on() -> Iterator[str]:
    import socket

    with socket.socket() as probe:  # bound, never listening: connections are refused at once
        probe.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{probe.getsockname()[1]}"


def disk_full() -> dict[str, Any]:
    """The object store's folder is a 4 MiB tmpfs: create fails with exit 2, leaves no backup, no partial file."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = _database(folder, mib=8)
        store = folder / "objects"
        store.mkdir()
        mounted = subprocess.run(  # noqa: S603 - needs root, as CI has; otherwise the scenario says so
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(store)],  # noqa: S607
            capture_output=True,
            text=True,
        )
        if mounted.returncode != 0:
            return {"name": "backups: disk full", "passed": False, "error": f"cannot mount a tmpfs: {mounted.stderr}"}
        try:
            process = _tradeops("backup", "create", env=_env(folder, store.as_uri()))
            _, err = process.communicate(timeout=DEADLINE_SECONDS)
            leftovers = [p.name for p in store.rglob("*") if p.is_file()]
            complete = _complete_backups(store)
        finally:
            subprocess.run(["umount", str(store)], check=False)  # noqa: S603, S607
        rows, check = _fingerprint(url)
    return {
        "name": "backups: disk full",
        "passed": process.returncode == 2 and "No space left" in err and not complete and not leftovers,
        "exit_code": process.returncode,
        "error_line": err.strip().splitlines()[-1] if err.strip() else "",
        "files_left": len(leftovers),
        "complete_backups": len(complete),
        "database_intact": check == "ok" and rows == 8 * 256,
    }


def kill_during_create() -> dict[str, Any]:
    """kill -9 while the dump is being written: no backup looks complete, the database is untouched, and the next
    create reclaims the scratch copy and the partial dump (0 bytes left)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = _database(folder)
        before = _fingerprint(url)
        store, scratch = folder / "objects", folder / "tmp"
        scratch.mkdir()
        env = _env(folder, store.as_uri(), TMPDIR=str(scratch))
        process = _tradeops("backup", "create", env=env)
        writing = _wait_for(lambda: any(store.glob("backups/*/.partial-*")), process)
        partial = sum(p.stat().st_size for p in store.glob("backups/*/.partial-*"))
        process.send_signal(signal.SIGKILL)
        process.wait()
        complete = _complete_backups(store)
        after = _fingerprint(url)
        left_at_kill = _leftover_bytes(store, scratch)
        retry = _tradeops("backup", "create", env=env)
        retry.communicate(timeout=DEADLINE_SECONDS)
        left_after_retry = _leftover_bytes(store, scratch)
    return {
        "name": "backups: kill -9 during create",
        "passed": writing and not complete and after == before and after[1] == "ok" and left_after_retry == 0,
        "killed_while_writing": writing,
        "partial_bytes_at_kill": partial,
        "complete_backups": len(complete),
        "database_intact": after == before,
        "scratch_bytes_left_at_kill": left_at_kill,
        "scratch_bytes_left_after_next_create": left_after_retry,
    }


def _leftover_bytes(store: Path, scratch: Path) -> int:
    """Bytes of scratch files: everything under TMPDIR, and the partial objects of the store."""
    files = [*scratch.rglob("*"), *store.rglob(".partial-*")]
    return sum(p.stat().st_size for p in files if p.is_file())


def kill_during_restore() -> dict[str, Any]:
    """kill -9 while a restore is inflating: the previous database stays as it was; a retry then restores and
    leaves no `.restore-*` file behind."""
    from tradeops.backup import BackupRepository
    from tradeops.store import open_object_store

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = _database(folder)
        store = folder / "objects"
        backup_id = BackupRepository(url, open_object_store(store.as_uri())).create().id
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection, connection:
            connection.execute("DELETE FROM filler WHERE id % 2 = 0")  # the state a bad restore would destroy
        before = _fingerprint(url)
        env = _env(folder, store.as_uri())
        process = _tradeops("backup", "restore", backup_id, "--yes", env=env)
        restoring = _wait_for(lambda: any(folder.glob(".restore-*")), process)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after_kill = _fingerprint(url)
        retry = _tradeops("backup", "restore", backup_id, "--yes", env=env)
        retry.communicate(timeout=DEADLINE_SECONDS)
        restored = _fingerprint(url)
        leftovers = len(list(folder.glob(".restore-*")))
    return {
        "name": "backups: kill -9 during restore",
        "passed": restoring
        and after_kill == before
        and retry.returncode == 0
        and restored == (DATABASE_MIB * 256, "ok")
        and leftovers == 0,
        "killed_while_restoring": restoring,
        "database_intact_after_kill": after_kill == before,
        "retry_exit_code": retry.returncode,
        "rows_after_retry": restored[0],
        "partial_files_left": leftovers,
    }


def scenarios() -> list[Callable[[], dict[str, Any]]]:
    """The backup fault scenarios, for `make faults`."""
    return [s3_unreachable, disk_full, kill_during_create, kill_during_restore]
