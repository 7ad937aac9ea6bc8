"""Peak memory of `backup create|verify|restore`, each measured in a fresh process.

    python -m pipelines.bench.backup_memory --op create --database URL --store URL [--endpoint URL]

The child opens the repository (imports, connections, S3 client) first, takes its RSS as the
baseline and resets the kernel's high-water mark (VmHWM) to it; then it runs the operation and
prints `{"baseline_kib", "peak_kib", "growth_kib", "result"}`.
Growth (peak minus baseline, from the kernel's high-water mark) is what the operation itself held;
it must not grow with the database (the bound is stated in docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def fill_sqlite(path: Path, mib: int) -> str:
    """A SQLite database of about `mib` MiB of random (incompressible) 4 KiB rows; returns its URL."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB)")
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO filler SELECT i, randomblob(4096) FROM n",
            (mib * 256,),
        )
    return f"sqlite:///{path}"


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> int:
    """Make the kernel's high-water mark the current RSS (getrusage's would include the parent's)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status_kib("VmRSS")


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from tradeops.backup import BackupRepository
    from tradeops.store import open_object_store

    repository = BackupRepository(args.database, open_object_store(args.store, args.endpoint))
    repository.objects.keys("backups/")  # the store's client is up before the baseline
    repository.database.table_counts()
    baseline = _reset_peak()
    result: Any
    if args.op == "create":
        result = repository.create().id
    elif args.op == "verify":
        result = repository.verify(args.backup).restore_seconds
    else:
        result = repository.restore(args.backup, target_url=args.target, confirmed=True)
    peak = _status_kib("VmHWM")
    return {"baseline_kib": baseline, "peak_kib": peak, "growth_kib": peak - baseline, "result": result}


def measure(
    op: str,
    database_url: str,
    store_url: str,
    *,
    endpoint: str | None = None,
    backup_id: str | None = None,
    target_url: str | None = None,
    timeout: float = 900,
) -> dict[str, Any]:
    """Run one operation in a child process; return its memory figures and result."""
    command = [sys.executable, "-m", "pipelines.bench.backup_memory", "--op", op, "--database", database_url]
    command += ["--store", store_url]
    for flag, value in (("--endpoint", endpoint), ("--backup", backup_id), ("--target", target_url)):
        if value:
            command += [flag, value]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=dict(os.environ))  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"backup {op} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--op", choices=["create", "verify", "restore"], required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--endpoint")
    parser.add_argument("--backup")
    parser.add_argument("--target")
    print(json.dumps(_run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
