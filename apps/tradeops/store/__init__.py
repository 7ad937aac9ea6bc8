"""Results store (SQLAlchemy, migrated by Alembic) and object store (folder or S3).

The names below are imported on first use, so a command that only needs the object store does not
import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradeops.store.objects import ObjectStore, open_object_store
    from tradeops.store.runs import Run, RunStore

_HOMES = {
    "ObjectStore": "tradeops.store.objects",
    "open_object_store": "tradeops.store.objects",
    "Run": "tradeops.store.runs",
    "RunStore": "tradeops.store.runs",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = ["ObjectStore", "Run", "RunStore", "open_object_store"]
