"""Scratch leftovers of killed commands: database copies in $TMPDIR, `.restore-*` beside a SQLite
database, `.partial-*` objects (and S3 uploads never completed); see tradeops.scratch for the rules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tradeops.scratch import Leftover, reclaim_beside, reclaim_temporary

if TYPE_CHECKING:
    from tradeops.cleanup.plan import CleanupReport
    from tradeops.store import ObjectStore


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite:///path`); None for any other database."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def clean_scratch(objects: ObjectStore, database_url: str | None, dry_run: bool, report: CleanupReport) -> None:
    """Reclaim every scratch file whose owner is gone, and say what each was and why it went."""
    found: list[Leftover] = [*reclaim_temporary(dry_run=dry_run), *objects.reclaim(dry_run=dry_run)]
    database = sqlite_file(database_url) if database_url else None
    if database is not None:
        found += reclaim_beside(database, ".restore-", dry_run=dry_run)
    for leftover in found:
        report.removed.append({"what": f"scratch {leftover.path}", "why": f"{leftover.why} ({leftover.bytes:,} bytes)"})
        report.bytes_freed += leftover.bytes
