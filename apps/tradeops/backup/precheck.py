"""Before a restore over the live database: refuse while services are connected, and say what it drops.

A restore replaces the database under whoever has it open. A SQLite file replaced under a running service
leaves it writing to the old, deleted file ("attempt to write a readonly database") while it still reports
ready; a PostgreSQL service keeps writing into tables the restore is recreating. So the maintenance mode is:
stop the writers (scale the services to 0, or stop `tradeops serve ...`), restore, start them again.
Found connected: SQLite - any other process holding the file open (from /proc); PostgreSQL - any session
of a tradeops service (they connect as application_name `tradeops-<service>`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tradeops.backup.databases import BackupError, Database

if TYPE_CHECKING:
    from tradeops.backup.repository import Manifest

SERVICE_PREFIX = "tradeops-"  # application_name of every service's connections (see store.database)


@dataclass(frozen=True)
class RestorePlan:
    """Who still has the database open, and what restoring the backup would drop."""

    writers: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)

    def refuse_if_in_use(self, backup_id: str) -> None:
        if self.writers:
            users = "; ".join(self.writers)
            raise BackupError(
                f"refusing to restore {backup_id}: the database is in use by {users}. "
                "Stop the services first (maintenance mode: docs/operations.md, Restore), then restore; "
                "nothing was changed"
            )


def plan_restore(database: Database, manifest: Manifest) -> RestorePlan:
    """The plan for restoring `manifest` over `database` itself."""
    return RestorePlan(writers=_writers(database), losses=_losses(database, manifest))


def _writers(database: Database) -> list[str]:
    if database.kind == "sqlite":
        return _processes_holding(Path(getattr(database, "path", "")).resolve())
    from sqlalchemy import create_engine, text

    engine = create_engine(
        database.url.replace("postgresql://", "postgresql+psycopg://", 1), connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT application_name, coalesce(host(client_addr), 'local'), count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE :prefix "
                    "GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                {"prefix": f"{SERVICE_PREFIX}%"},
            )
            return [f"{name} from {host} ({count} connections)" for name, host, count in rows]
    finally:
        engine.dispose()


def _processes_holding(path: Path) -> list[str]:
    """Other processes with `path` (or its -wal/-journal files) open, as 'pid N (command line)'."""
    names = {str(path), f"{path}-wal", f"{path}-journal", f"{path}-shm"}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            opened = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
            if opened & names:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                found.append(f"pid {entry.name} ({command[:80]})")
        except OSError:
            continue  # gone meanwhile, or not ours to look at
    return found


def _losses(database: Database, manifest: Manifest) -> list[str]:
    try:
        now = database.table_counts()
    except Exception:  # noqa: BLE001 - a database that cannot be counted is what a restore may be for
        return ["the current database cannot be read: what it holds now will be replaced"]
    lines = []
    for table, count in sorted(now.items()):
        before = manifest.tables.get(table, 0)
        if count > before:
            what = "runs" if table == "runs" else f"rows of {table}"
            lines.append(f"{count - before} {what} newer than the backup will be lost ({count} now, {before} in it)")
    return lines
