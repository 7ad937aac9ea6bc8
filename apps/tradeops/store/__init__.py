"""Results store (SQLAlchemy, migrated by Alembic) and object store (folder or S3).

The names below are imported on first use, so a command that only needs the object store does not
import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeops.lazy import lazy_attributes

if TYPE_CHECKING:
    from tradeops.store.objects import ObjectStore, open_object_store
    from tradeops.store.runs import Run, RunStore

__getattr__ = lazy_attributes(
    __name__,
    {
        "ObjectStore": "tradeops.store.objects",
        "open_object_store": "tradeops.store.objects",
        "Run": "tradeops.store.runs",
        "RunStore": "tradeops.store.runs",
    },
)

__all__ = ["ObjectStore", "Run", "RunStore", "open_object_store"]
