"""Apply Alembic migrations programmatically: every service and `tradeops db upgrade` share this path.

Services start together (`tradeops local up`, several pods of one stack), so an upgrade is
serialised: a process-wide lock (Alembic's command API is not thread-safe) and, on PostgreSQL, a
session advisory lock, so a second migrator waits and then finds the schema already current.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_KEY = 0x7472_6164_656F_7073  # "tradeops"
_in_process = threading.Lock()


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest revision (idempotent, safe to run concurrently).

    Alembic is imported here, not at module level: every `tradeops` command imports the store, and
    the gate Job (which never migrates) should not pay for it on start.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _in_process, engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if locked:  # released even when the upgrade failed: the pooled connection must not keep it
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()
