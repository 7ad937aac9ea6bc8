"""Results store (SQLAlchemy, migrated by Alembic) and object store (folder or S3)."""

from tradeops.store.objects import ObjectStore, open_object_store
from tradeops.store.runs import Run, RunStore

__all__ = ["ObjectStore", "Run", "RunStore", "open_object_store"]
