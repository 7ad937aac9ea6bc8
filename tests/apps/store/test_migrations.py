"""The migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from tradeops.store.database import open_engine
from tradeops.store.models import Base


@pytest.mark.req("BT-3", "DC-12")
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bt_3_dc_12_migrated_schema_matches_the_models(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.req("BT-3")
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bt_3_services_starting_together_migrate_once_without_colliding(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_engine(url).dispose()
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = open_engine(url, migrate=False)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0007"]
    engine.dispose()
