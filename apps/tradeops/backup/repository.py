"""Backups in the object store: `backups/<id>/dump`, then `manifest.json` last, `verified.json` after a drill."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from tradeops import __version__
from tradeops.backup.databases import BackupError, Database, open_database
from tradeops.backup.retention import BackupInfo, RetentionPolicy, plan_prune
from tradeops.store.objects import ObjectStore

if TYPE_CHECKING:
    from tradeops.backup.precheck import RestorePlan

PREFIX = "backups"


class Manifest(BaseModel):
    """What a backup holds; written after the dump, so a backup without one never happened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    database: Literal["postgresql", "sqlite"]
    kind: Literal["scheduled", "restore-point"]
    label: str | None
    created_at: datetime
    app_version: str
    size_bytes: int
    sha256: str
    tables: dict[str, int]
    dump_seconds: float


class Verification(BaseModel):
    """The last test restore of a backup: when, how long it took (the RTO), and what it checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verified_at: datetime
    restore_seconds: float
    tables_checked: int


class BackupView(BaseModel):
    """A backup as `tradeops backup list --json` shows it."""

    id: str
    kind: str
    label: str | None
    created_at: datetime
    size_bytes: int
    sha256: str
    verified: bool
    verified_at: datetime | None
    restore_seconds: float | None


def _hashing(chunks: Iterable[bytes], digest: hashlib._Hash) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


class BackupRepository:
    """Create, list, verify, restore and prune the backups of one database."""

    def __init__(self, database_url: str, objects: ObjectStore) -> None:
        self.database: Database = open_database(database_url)
        self.objects = objects

    def _key(self, backup_id: str, name: str) -> str:
        return f"{PREFIX}/{backup_id}/{name}"

    def create(self, *, kind: str = "scheduled", label: str | None = None) -> Manifest:
        """Dump, stream to the store while hashing, then write the manifest (last)."""
        if kind not in ("scheduled", "restore-point"):
            raise BackupError(f"kind {kind!r}: use scheduled or restore-point")
        created = datetime.now(UTC)
        backup_id = f"{created:%Y%m%dT%H%M%S}Z-{secrets.token_hex(3)}"
        started = time.perf_counter()
        tables, chunks = self.database.dump()
        digest = hashlib.sha256()
        try:
            size = self.objects.put_stream(self._key(backup_id, "dump"), _hashing(chunks, digest))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # stops pg_dump and ends its snapshot if the upload failed
        manifest = Manifest(
            id=backup_id,
            database=self.database.kind,
            kind=kind,
            label=label,
            created_at=created,
            app_version=__version__,
            size_bytes=size,
            sha256=digest.hexdigest(),
            tables=tables,
            dump_seconds=round(time.perf_counter() - started, 4),
        )
        self.objects.put(
            self._key(backup_id, "manifest.json"), manifest.model_dump_json(indent=2).encode(), "application/json"
        )
        return manifest

    def manifest(self, backup_id: str) -> Manifest:
        try:
            return Manifest.model_validate_json(self.objects.get(self._key(backup_id, "manifest.json")))
        except KeyError:
            raise BackupError(f"no backup {backup_id!r} (or it never completed)") from None

    def verification(self, backup_id: str) -> Verification | None:
        try:
            return Verification.model_validate_json(self.objects.get(self._key(backup_id, "verified.json")))
        except KeyError:
            return None

    def list_backups(self) -> list[BackupView]:
        """Every complete backup, newest first."""
        ids = {k.split("/")[1] for k in self.objects.keys(f"{PREFIX}/") if k.endswith("/manifest.json")}
        manifests = sorted((self.manifest(i) for i in ids), key=lambda m: (m.created_at, m.id), reverse=True)
        views = []
        for manifest in manifests:
            checked = self.verification(manifest.id)
            views.append(
                BackupView(
                    id=manifest.id,
                    kind=manifest.kind,
                    label=manifest.label,
                    created_at=manifest.created_at,
                    size_bytes=manifest.size_bytes,
                    sha256=manifest.sha256,
                    verified=checked is not None,
                    verified_at=checked.verified_at if checked else None,
                    restore_seconds=checked.restore_seconds if checked else None,
                )
            )
        return views

    def verify(self, backup_id: str) -> Verification:
        """Check the checksum, restore into a scratch database, compare every table's row count."""
        manifest = self.manifest(backup_id)
        chunks = self._verified_stream(manifest)
        with self.database.scratch() as scratch_url:
            started = time.perf_counter()
            self.database.restore(chunks, scratch_url)
            seconds = time.perf_counter() - started
            counts = self.database.table_counts(scratch_url)
        if counts != manifest.tables:
            wrong = {
                t: (manifest.tables.get(t), counts.get(t))
                for t in set(counts) | set(manifest.tables)
                if counts.get(t) != manifest.tables.get(t)
            }
            raise BackupError(f"backup {backup_id}: restored row counts differ from the manifest: {wrong}")
        verification = Verification(
            verified_at=datetime.now(UTC), restore_seconds=round(seconds, 4), tables_checked=len(counts)
        )
        self.objects.put(
            self._key(backup_id, "verified.json"), verification.model_dump_json().encode(), "application/json"
        )
        return verification

    def restore(self, backup_id: str, *, target_url: str | None = None, confirmed: bool = False) -> float:
        """Restore into the target (default: the database itself); refuse without confirmation."""
        target = target_url or self.database.url
        losses: list[str] = []
        if target == self.database.url:  # over the live database: nobody may be using it (see precheck)
            plan = self.restore_plan(backup_id)
            plan.refuse_if_in_use(backup_id)
            losses = plan.losses
        if not confirmed:
            raise BackupError(
                f"restoring {backup_id} replaces the contents of the target database"
                + "".join(f"; {line}" for line in losses)
                + "; add --yes to confirm (or --target-url for a scratch database)"
            )
        started = time.perf_counter()
        self.database.restore(self._verified_stream(self.manifest(backup_id)), target)
        return time.perf_counter() - started

    def restore_plan(self, backup_id: str) -> RestorePlan:
        """Who has the database open, and what restoring `backup_id` over it would drop."""
        from tradeops.backup.precheck import plan_restore

        return plan_restore(self.database, self.manifest(backup_id))

    def _verified_stream(self, manifest: Manifest) -> Iterator[bytes]:
        """Read the dump (a missing or wrongly sized one fails here, before any tool starts), then yield it
        while its checksum is computed alongside; the last chunk only once the checksum matched.

        The restore starts at once instead of after a separate checksum pass, yet the target never
        sees a complete input from a corrupted backup (and PostgreSQL restores in one transaction).
        """
        try:
            chunks = list(self.objects.get_stream(self._key(manifest.id, "dump")))
        except KeyError:
            raise BackupError(f"backup {manifest.id}: its dump object is missing") from None
        size = sum(len(c) for c in chunks)
        if size != manifest.size_bytes or not chunks:
            raise BackupError(
                f"backup {manifest.id} is truncated or padded: {size} bytes, the manifest says "
                f"{manifest.size_bytes}; nothing was restored"
            )
        return _released_after_checksum(chunks, manifest)

    def prune(
        self, policy: RetentionPolicy, *, dry_run: bool = False, now: datetime | None = None
    ) -> tuple[dict[str, str], list[str]]:
        """Apply retention; the manifest goes first so a half-deleted backup never looks complete."""
        views = self.list_backups()
        infos = [BackupInfo(v.id, v.created_at, v.kind, v.verified) for v in views]
        keep, delete = plan_prune(infos, now or datetime.now(UTC), policy)
        if not dry_run:
            for backup_id in delete:
                for name in ("manifest.json", "verified.json", "dump"):
                    self.objects.delete(self._key(backup_id, name))
        return keep, delete

    def recovery(self, now: datetime | None = None) -> dict[str, float | None]:
        """RPO: age of the newest verified backup; RTO: how long its test restore took (seconds)."""
        verified = [v for v in self.list_backups() if v.verified]
        if not verified:
            return {"rpo_seconds": None, "rto_seconds": None}
        newest = verified[0]
        return {
            "rpo_seconds": round(((now or datetime.now(UTC)) - newest.created_at).total_seconds(), 1),
            "rto_seconds": newest.restore_seconds,
        }


def _released_after_checksum(chunks: list[bytes], manifest: Manifest) -> Iterator[bytes]:
    digest = hashlib.sha256()

    def hash_all() -> None:
        for chunk in chunks:
            digest.update(chunk)  # hashlib releases the GIL: this runs beside the restore

    hashing = threading.Thread(target=hash_all)
    hashing.start()
    yield from chunks[:-1]
    hashing.join()
    if digest.hexdigest() != manifest.sha256:
        raise BackupError(
            f"backup {manifest.id} is corrupted: SHA-256 {digest.hexdigest()[:16]}... does not match "
            f"the manifest's {manifest.sha256[:16]}...; nothing was restored"
        )
    yield chunks[-1]


def summary(views: list[BackupView]) -> str:
    """One line per backup for humans."""
    return (
        "\n".join(
            f"{v.id}  {v.kind:13s} {v.size_bytes:>12,d} B  {'verified' if v.verified else 'unverified'}"
            f"{'  ' + v.label if v.label else ''}"
            for v in views
        )
        or "no backups"
    )
