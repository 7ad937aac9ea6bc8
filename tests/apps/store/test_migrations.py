"""The migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
