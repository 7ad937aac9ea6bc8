"""Reading a stack's releases: JSON release records under `releases/<stack>/` in the object store.

Only the reading side lives here, behind `ReleaseReader`; the deploy pipeline writes the records.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from tradeops.store.objects import ObjectStore

PREFIX = "releases"
TIME_FIELDS = ("finished_at", "deployed_at", "created_at", "started_at")


class ReleaseReader(Protocol):
    """Lists a stack's releases, newest first."""

    def releases(self, stack: str, limit: int = 10) -> list[dict[str, Any]]: ...


def released_at(record: dict[str, Any]) -> str:
    """The record's time (the first of TIME_FIELDS it has), ISO-8601, or "" when it has none."""
    return next((str(record[name]) for name in TIME_FIELDS if record.get(name)), "")


class ObjectStoreReleases:
    """Release records as `releases/<stack>/<anything>.json` objects; unreadable ones are skipped."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def releases(self, stack: str, limit: int = 10) -> list[dict[str, Any]]:
        records = []
        for key in self.objects.keys(f"{PREFIX}/{stack}/"):
            if not key.endswith(".json"):
                continue
            try:
                record = json.loads(self.objects.get(key))
            except (KeyError, ValueError):
                continue
            if isinstance(record, dict):
                records.append(record)
        records.sort(key=released_at, reverse=True)
        return records[:limit]
