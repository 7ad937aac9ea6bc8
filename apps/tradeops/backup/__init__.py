"""Backups with verified restores: dump, store with a checksum and manifest, verify, restore, prune."""

from tradeops.backup.databases import BackupError
from tradeops.backup.repository import BackupRepository
from tradeops.backup.retention import RetentionPolicy, plan_prune

__all__ = ["BackupError", "BackupRepository", "RetentionPolicy", "plan_prune"]
