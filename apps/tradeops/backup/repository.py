"""Backups in the object store: `backups/<id>/dump`, then `manifest.json` last, `verified.json` after a drill."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from tradeops import __version__
from tradeops.backup import codec
from tradeops.backup.databases import BackupError, Database, open_database
from tradeops.backup.retention import BackupInfo, RetentionPolicy, plan_prune
from tradeops.store.objects import ObjectStore

if TYPE_CHECKING:
    from tradeops.backup.precheck import RestorePlan

PREFIX = "backups"
HELD_BYTES = 1024 * 1024  # the tail of a dump a restore sees only once its checksum matched


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
    codec: codec.Codec  # how the dump object is compressed (`tradeops.backup.codec`)

    @model_validator(mode="before")
    @classmethod
    def _codec_before_issue_29(cls, data: Any) -> Any:
        """Manifests written before the codec was recorded: SQLite dumps were gzip, pg_dump's compressed itself."""
        if isinstance(data, dict) and "codec" not in data:
            return {**data, "codec": "gzip" if data.get("database") == "sqlite" else "none"}
        return data


class Verification(BaseModel):
    """The last test restore of a backup: when, how long it took (the RTO), and what it checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verified_at: datetime
    restore_seconds: float
    tables_checked: int


class VerifyFailure(BaseModel):
    """The last test restore of a backup failed: it no longer counts as restorable until one passes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failed_at: datetime
    error: str


class CorruptBackup(BaseModel):
    """A backup whose manifest cannot be read: listed and alerted on, never restored, never pruned."""

    id: str
    status: Literal["corrupt"] = "corrupt"
    error: str


class BackupView(BaseModel):
    """A backup as `tradeops backup list --json` shows it."""

    id: str
    status: Literal["verified", "unverified", "failed"]
    kind: str
    label: str | None
    created_at: datetime
    size_bytes: int
    sha256: str
    verified: bool
    verified_at: datetime | None
    restore_seconds: float | None
    failed_at: datetime | None = None
    error: str | None = None


def _hashing(chunks: Iterable[bytes], digest: hashlib._Hash) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


class BackupRepository:
    """Create, list, verify, restore and prune the backups of one database."""

    def __init__(self, database_url: str, objects: ObjectStore) -> None:
        self.database_url = database_url
        self.objects = objects

    @functools.cached_property
    def database(self) -> Database:
        """The database, opened on first use: listing and pruning never touch it (nor import SQLAlchemy)."""
        return open_database(self.database_url)

    def _key(self, backup_id: str, name: str) -> str:
        return f"{PREFIX}/{backup_id}/{name}"

    def create(self, *, kind: str = "scheduled", label: str | None = None) -> Manifest:
        """Dump, compress (`codec.CODEC`), stream to the store while hashing, then write the manifest (last)."""
        if kind not in ("scheduled", "restore-point"):
            raise BackupError(f"kind {kind!r}: use scheduled or restore-point")
        created = datetime.now(UTC)
        backup_id = f"{created:%Y%m%dT%H%M%S}Z-{secrets.token_hex(3)}"
        self.objects.reclaim(f"{PREFIX}/")  # partial dumps of killed backups (see tradeops.scratch)
        started = time.perf_counter()
        tables, chunks = self.database.dump()
        digest = hashlib.sha256()
        try:
            size = self.objects.put_stream(self._key(backup_id, "dump"), _hashing(codec.compress(chunks), digest))
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
            codec=codec.CODEC,
        )
        self.objects.put(
            self._key(backup_id, "manifest.json"), manifest.model_dump_json(indent=2).encode(), "application/json"
        )
        return manifest

    def manifest(self, backup_id: str) -> Manifest:
        """The manifest of a complete backup; a missing or unreadable one is a BackupError naming the id."""
        if "/" in backup_id or backup_id in ("", ".", ".."):
            raise BackupError(f"backup id {backup_id!r}: not an id (see `tradeops backup list`)")
        try:
            return Manifest.model_validate_json(self.objects.get(self._key(backup_id, "manifest.json")))
        except KeyError:
            raise BackupError(f"no backup {backup_id!r} (or it never completed)") from None
        except ValueError as error:  # pydantic's ValidationError: truncated or edited JSON
            raise BackupError(f"backup {backup_id}: its manifest is corrupt ({_first_line(error)})") from None

    def _record(self, backup_id: str, name: str, model: type[BaseModel]) -> BaseModel | None:
        try:
            return model.model_validate_json(self.objects.get(self._key(backup_id, name)))
        except KeyError:
            return None
        except ValueError:
            return None  # an unreadable record proves nothing: treated as absent

    def verification(self, backup_id: str) -> Verification | None:
        found = self._record(backup_id, "verified.json", Verification)
        return found if isinstance(found, Verification) else None

    def verify_failure(self, backup_id: str) -> VerifyFailure | None:
        found = self._record(backup_id, "verify-failed.json", VerifyFailure)
        return found if isinstance(found, VerifyFailure) else None

    def inventory(self) -> tuple[list[BackupView], list[CorruptBackup]]:
        """Every complete backup, newest first, and the backups whose manifest cannot be read."""
        ids = {k.split("/")[1] for k in self.objects.keys(f"{PREFIX}/") if k.endswith("/manifest.json")}
        manifests, corrupt = [], []
        for backup_id in sorted(ids):
            try:
                manifests.append(self.manifest(backup_id))
            except BackupError as error:
                corrupt.append(CorruptBackup(id=backup_id, error=str(error)))
        manifests.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return [self._view(m) for m in manifests], corrupt

    def list_backups(self) -> list[BackupView]:
        """Every complete backup with a readable manifest, newest first."""
        return self.inventory()[0]

    def _view(self, manifest: Manifest) -> BackupView:
        failed = self.verify_failure(manifest.id)
        checked = None if failed else self.verification(manifest.id)
        return BackupView(
            id=manifest.id,
            status="failed" if failed else "verified" if checked else "unverified",
            kind=manifest.kind,
            label=manifest.label,
            created_at=manifest.created_at,
            size_bytes=manifest.size_bytes,
            sha256=manifest.sha256,
            verified=checked is not None,
            verified_at=checked.verified_at if checked else None,
            restore_seconds=checked.restore_seconds if checked else None,
            failed_at=failed.failed_at if failed else None,
            error=failed.error if failed else None,
        )

    def verify(self, backup_id: str) -> Verification:
        """Check the checksum, restore into a scratch database, compare every table's row count."""
        manifest = self.manifest(backup_id)
        try:
            seconds, counts = self._test_restore(manifest)
        except BackupError as error:  # recorded first, then the old pass removed: never both trusted
            failure = VerifyFailure(failed_at=datetime.now(UTC), error=str(error))
            self.objects.put(
                self._key(backup_id, "verify-failed.json"), failure.model_dump_json().encode(), "application/json"
            )
            self.objects.delete(self._key(backup_id, "verified.json"))
            raise
        verification = Verification(
            verified_at=datetime.now(UTC), restore_seconds=round(seconds, 4), tables_checked=len(counts)
        )
        self.objects.put(
            self._key(backup_id, "verified.json"), verification.model_dump_json().encode(), "application/json"
        )
        self.objects.delete(self._key(backup_id, "verify-failed.json"))
        return verification

    def _test_restore(self, manifest: Manifest) -> tuple[float, dict[str, int]]:
        chunks = codec.decompress(self._verified_stream(manifest), manifest.codec)
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
            raise BackupError(f"backup {manifest.id}: restored row counts differ from the manifest: {wrong}")
        return seconds, counts

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
        manifest = self.manifest(backup_id)
        started = time.perf_counter()
        self.database.restore(codec.decompress(self._verified_stream(manifest), manifest.codec), target)
        return time.perf_counter() - started

    def restore_plan(self, backup_id: str) -> RestorePlan:
        """Who has the database open, and what restoring `backup_id` over it would drop."""
        from tradeops.backup.precheck import plan_restore

        return plan_restore(self.database, self.manifest(backup_id))

    def _verified_stream(self, manifest: Manifest) -> Iterator[bytes]:
        """Check the dump's size (a missing or wrongly sized one fails here, before any tool starts), then
        stream it while hashing, holding back its last HELD_BYTES until the checksum matched.

        The restore starts at once instead of after a separate checksum pass, yet the target never
        sees a complete input from a corrupted backup (and PostgreSQL restores in one transaction).
        Memory: at most 2 x HELD_BYTES plus one chunk of the store, whatever the dump's size.
        """
        key = self._key(manifest.id, "dump")
        try:
            size = self.objects.size(key)
            chunks = self.objects.get_stream(key)
        except KeyError:
            raise BackupError(f"backup {manifest.id}: its dump object is missing") from None
        if size != manifest.size_bytes or size == 0:
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
                for name in ("manifest.json", "verified.json", "verify-failed.json", "dump"):
                    self.objects.delete(self._key(backup_id, name))
        return keep, delete

    def recovery(self, views: list[BackupView] | None = None, now: datetime | None = None) -> dict[str, float | None]:
        """RPO: age of the newest verified backup; RTO: how long its test restore took (seconds)."""
        verified = [v for v in (self.list_backups() if views is None else views) if v.verified]
        if not verified:
            return {"rpo_seconds": None, "rto_seconds": None}
        newest = verified[0]
        return {
            "rpo_seconds": round(((now or datetime.now(UTC)) - newest.created_at).total_seconds(), 1),
            "rto_seconds": newest.restore_seconds,
        }


def _released_after_checksum(chunks: Iterable[bytes], manifest: Manifest) -> Iterator[bytes]:
    digest, size, held = hashlib.sha256(), 0, bytearray()
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if size > manifest.size_bytes:
            break
        held += chunk
        if len(held) >= 2 * HELD_BYTES:
            yield bytes(held[:-HELD_BYTES])
            del held[:-HELD_BYTES]
    if size != manifest.size_bytes:
        raise BackupError(
            f"backup {manifest.id} is truncated or padded: it changed while being read ({size} bytes so far, "
            f"the manifest says {manifest.size_bytes}); nothing was restored"
        )
    if digest.hexdigest() != manifest.sha256:
        raise BackupError(
            f"backup {manifest.id} is corrupted: SHA-256 {digest.hexdigest()[:16]}... does not match "
            f"the manifest's {manifest.sha256[:16]}...; nothing was restored"
        )
    yield bytes(held)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def summary(views: list[BackupView], corrupt: list[CorruptBackup] | None = None) -> str:
    """One line per backup for humans; corrupt ones last."""
    lines = [
        f"{v.id}  {v.kind:13s} {v.size_bytes:>12,d} B  {v.status}{'  ' + v.label if v.label else ''}"
        f"{'  (' + v.error + ')' if v.error else ''}"
        for v in views
    ]
    lines += [f"{c.id}  CORRUPT: {c.error}" for c in corrupt or []]
    return "\n".join(lines) or "no backups"
