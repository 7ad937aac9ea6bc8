"""Backups stream in bounded memory: a child process's peak RSS does not grow with the database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from pipelines.bench.backup_memory import fill_sqlite, measure

pytestmark = pytest.mark.req("DC-17")

DATABASE_MIB = 64
BOUND_MIB = 40  # well under the database: what create, verify and restore may hold (docs/operations.md)
ROWS = DATABASE_MIB * 256  # 4 KiB of random (incompressible) bytes each


def fill_postgres(url: str) -> str:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE filler AS SELECT g AS id, decode((SELECT string_agg(md5(random()::text || g || i), '') "
                "FROM generate_series(1, 256) i), 'hex') AS payload FROM generate_series(1, :rows) g"
            ),
            {"rows": ROWS},
        )
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def big_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return fill_sqlite(tmp_path / "big.db", DATABASE_MIB)
    request.getfixturevalue("pg_tools")
    return fill_postgres(request.getfixturevalue("postgres_url"))


def test_dc_17_create_verify_restore_hold_less_memory_than_the_database(big_database, object_store_url, tmp_path):
    store, endpoint = object_store_url
    created = measure("create", big_database, store, endpoint=endpoint)
    verified = measure("verify", big_database, store, endpoint=endpoint, backup_id=created["result"])
    target = f"sqlite:///{tmp_path / 'restored.db'}" if big_database.startswith("sqlite") else None
    restored = measure(
        "restore", big_database, store, endpoint=endpoint, backup_id=created["result"], target_url=target
    )
    growth = {
        op: figures["growth_kib"] / 1024
        for op, figures in (("create", created), ("verify", verified), ("restore", restored))
    }
    print(f"peak growth over baseline, MiB, for a {DATABASE_MIB} MiB database: {growth}")
    assert max(growth.values()) < BOUND_MIB, growth
