"""Apply Alembic migrations programmatically: the service and `tradeops db upgrade` share this path."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(database_url: str) -> None:
    """Bring the database schema to the newest revision (idempotent).

    Alembic is imported here, not at module level: every `tradeops` command imports the store, and
    the gate Job (which never migrates) should not pay for it on start.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")
