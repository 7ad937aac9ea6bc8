"""Datasets: named, immutable, content-hashed versions of bars in the object store.

Layout under `datasets/NAME/`:
  parts/SHA256.parquet            every symbol of one calendar year (or month: `tradeops.data.parts`);
                                  content-addressed, shared by versions (before issue 29: one symbol, one year)
  versions/VERSION/manifest.json  symbols, timeframe, span, bars, gaps, source, parts; written after the parts
  latest.json                     the newest version: version, sha256, manifest key; written LAST

A version exists only once its manifest does, so a write that dies half way leaves parts nobody
lists (cleanup removes them) and never a complete-looking version. Reading checks every part's
sha256 against the manifest: corrupt data is refused, never used.

The latest version is one GET of `latest.json`, however many versions there are (an hourly sync
keeps 720 in 30 days; scanning them was one LIST and 720 GETs). The pointer only moves forwards: a
writer compares its version's `created_at` with the pointer's before replacing it, so a write that
finishes late never hides a newer version. A dataset written before the pointer existed, or a
pointer naming a manifest that is gone, is found by the old scan instead, with a warning, and the
pointer is written again. `tradeops.data.pinning` turns `dataset:NAME` into `dataset:NAME@VERSION`
once, where work is submitted, so every shard, trial and result of that work reads the same bars.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tradeops.data.columns import Columns, bars_columns, frames_columns
from tradeops.data.fields import FIELDS
from tradeops.data.parts import Piece, decode, encode, join
from tradeops.errors import DataError
from tradeops.scratch import owner

# the timeframe helpers need pandas: imported where bars are checked, so listing and cleaning datasets
# (`tradeops cleanup`, `data list`) never imports pandas

if TYPE_CHECKING:
    import pandas as pd

    from tradeops.data.bars import Bars
    from tradeops.store.objects import ObjectStore

PREFIX = "dataset:"
ROOT = "datasets"
LATEST = "latest.json"
READ_THREADS = 4  # parts read at once
log = logging.getLogger(__name__)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION_PATTERN = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class DatasetRef:
    """`dataset:NAME` (the latest version) or `dataset:NAME@VERSION` (exactly that one)."""

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return f"{PREFIX}{self.name}" + (f"@{self.version}" if self.version else "")


def parse_ref(reference: str) -> DatasetRef:
    """Parse a `dataset:NAME[@VERSION]` reference; a DataError says what is wrong with it."""
    body = reference.removeprefix(PREFIX)
    name, _, version = body.partition("@")
    check_name(name)
    if version and not VERSION_PATTERN.match(version):
        raise DataError(f"{reference}: version {version!r} is not 16 hex digits (see `tradeops data list`)")
    return DatasetRef(name, version or None)


def check_name(name: str) -> str:
    """Return the dataset name if it is lower-case letters, digits, '.', '_' or '-' (64 at most)."""
    if not NAME_PATTERN.match(name):
        raise DataError(f"dataset name {name!r}: use lower-case letters, digits, '.', '_', '-' (max 64)")
    return name


class Part(BaseModel):
    """One Parquet object: the bars of every symbol in one period (`symbols`), or of one (`symbol`, the
    layout before issue 29)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str | None = None
    symbols: list[str] = Field(default_factory=list)
    key: str
    sha256: str
    bytes: int
    bars: int
    first: str
    last: str


class MarketUnits(BaseModel):
    """One symbol's order units at its market: amount step (1 = whole units) and minimum amount."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lot_size: float | None = Field(None, ge=0)
    min_size: float | None = Field(None, ge=0)


class Manifest(BaseModel):
    """What a version holds; the version is a content hash over its bars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str
    version: str
    sha256: str
    timeframe: str
    symbols: list[str]
    first: str
    last: str
    bars: int
    gaps: dict[str, Any]
    source: str
    fetched_at: str
    created_at: str
    parts: list[Part]
    quality: dict[str, Any] = {}  # the data quality checks at write time (tradeops.data.quality); {} before them
    units: dict[str, MarketUnits] = Field(default_factory=dict)  # per symbol, when the source told them

    def market_units(self) -> MarketUnits:
        """The units one setting can hold for every symbol: the coarsest lot and the largest minimum."""
        lots = [u.lot_size for u in self.units.values() if u.lot_size is not None]
        minimums = [u.min_size for u in self.units.values() if u.min_size is not None]
        return MarketUnits(lot_size=max(lots) if lots else None, min_size=max(minimums) if minimums else None)

    @property
    def ref(self) -> str:
        return f"{PREFIX}{self.dataset}@{self.version}"

    @property
    def size(self) -> int:
        return sum(part.bytes for part in self.parts)


class Latest(BaseModel):
    """The pointer to a dataset's newest version, `datasets/NAME/latest.json`: small, read in one request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str
    version: str
    sha256: str
    manifest: str
    created_at: str

    @property
    def ref(self) -> str:
        return f"{PREFIX}{self.dataset}@{self.version}"


def _newer(manifest: Manifest | Latest, than: Latest) -> bool:
    mine = (datetime.fromisoformat(manifest.created_at), manifest.version)
    return mine > (datetime.fromisoformat(than.created_at), than.version)


def content_hash(columns: Columns, timeframe: str) -> str:
    """Return a SHA-256 over the timeframe, then each symbol (sorted), its timestamps (ns) and every value.

    It covers the bars alone, never how they are stored: the same bars give the same version in any layout.
    """
    digest = hashlib.sha256(timeframe.encode())
    for symbol in sorted(columns):
        stamps, values = columns[symbol]
        digest.update(b"\x1e" + symbol.encode() + b"\x1f")
        digest.update(stamps.astype("datetime64[ns]").astype("int64").tobytes())
        for field in FIELDS:
            digest.update(np.ascontiguousarray(values[field]).tobytes())
    return digest.hexdigest()


def _columns(frames: dict[str, pd.DataFrame] | Bars) -> Columns:
    from tradeops.data.bars import Bars

    return bars_columns(frames) if isinstance(frames, Bars) else frames_columns(frames)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class DatasetStore:
    """Datasets in an object store (a folder or S3)."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def names(self) -> list[str]:
        """Return every dataset with at least one complete version."""
        keys = self.objects.keys(f"{ROOT}/")
        return sorted({key.split("/")[1] for key in keys if key.endswith("/manifest.json")})

    def versions(self, name: str) -> list[Manifest]:
        """Return the complete versions of a dataset, oldest first."""
        prefix = f"{ROOT}/{check_name(name)}/versions/"
        keys = [key for key in self.objects.keys(prefix) if key.endswith("/manifest.json")]
        found = [Manifest.model_validate_json(self.objects.get(key)) for key in keys]
        return sorted(found, key=lambda manifest: manifest.created_at)

    def manifest(self, ref: DatasetRef) -> Manifest:
        """Return the named version, or the latest one; a DataError says what exists instead.

        The latest is two GETs (the pointer, then its manifest); a pointer whose manifest is gone
        falls back to the scan and says so.
        """
        if ref.version:
            try:
                raw = self.objects.get(self._manifest_key(ref.name, ref.version))
            except KeyError:
                known = [m.version for m in self.versions(ref.name)]
                raise DataError(f"{ref}: no such version (versions: {', '.join(known) or 'none'})") from None
            return Manifest.model_validate_json(raw)
        pointer = self.latest(ref.name)
        try:
            return Manifest.model_validate_json(self.objects.get(pointer.manifest))
        except KeyError:
            return self._scan(ref.name, f"{pointer.ref}: {LATEST} names a manifest that is missing", stale=pointer)

    def latest(self, name: str) -> Latest:
        """Return the pointer to the newest version: one GET, whatever the number of versions.

        Without a pointer (a dataset written before pointers existed, or an unreadable one) the
        versions are scanned instead, a warning says so, and the pointer is written.
        """
        stale = None
        try:
            pointer = Latest.model_validate_json(self.objects.get(self._latest_key(check_name(name))))
        except KeyError:
            why = f"{PREFIX}{name}: no {LATEST} pointer (written before pointers existed)"
        except ValidationError:
            why = f"{PREFIX}{name}: {LATEST} is unreadable"
        else:
            if pointer.manifest == self._manifest_key(name, pointer.version):
                return pointer
            why, stale = f"{PREFIX}{name}: {LATEST} names {pointer.manifest}, not a version of this dataset", pointer
        newest = self._scan(name, why, stale)
        return self._pointer(newest)

    def _scan(self, name: str, why: str, stale: Latest | None = None) -> Manifest:
        versions = self.versions(name)
        if not versions:
            if stale is not None:
                self.objects.delete(self._latest_key(name))
            raise DataError(f"{PREFIX}{name}: no such dataset (datasets: {', '.join(self.names()) or 'none'})")
        newest = versions[-1]
        log.warning("%s; scanned %d version(s) instead: the latest is %s", why, len(versions), newest.ref)
        self._advance(newest, stale=stale)
        return newest

    def _pointer(self, manifest: Manifest) -> Latest:
        return Latest(
            dataset=manifest.dataset,
            version=manifest.version,
            sha256=manifest.sha256,
            manifest=self._manifest_key(manifest.dataset, manifest.version),
            created_at=manifest.created_at,
        )

    def _advance(self, manifest: Manifest, stale: Latest | None = None) -> None:
        """Point `latest.json` at `manifest` unless it names a newer version already (a `stale` one aside)."""
        key = self._latest_key(manifest.dataset)
        try:
            current: Latest | None = Latest.model_validate_json(self.objects.get(key))
        except (KeyError, ValidationError):
            current = None
        if current is not None and current != stale and not _newer(manifest, current):
            return  # a newer version's writer finished first: never move the pointer back
        body = json.dumps(self._pointer(manifest).model_dump(mode="json"), indent=2).encode()
        self.objects.put(key, body, "application/json")

    def write(
        self,
        name: str,
        frames: dict[str, pd.DataFrame] | Bars,
        *,
        timeframe: str,
        source: str,
        fetched_at: str | None = None,
        quality: dict[str, Any] | None = None,
        units: dict[str, MarketUnits] | None = None,
    ) -> tuple[Manifest, bool]:
        """Store validated bars (or per-symbol frames) as a version; return it and whether it is new.

        Equal bars give the same version, so writing them again creates nothing. `quality` is the
        data quality report (`QualityReport.to_dict()`) recorded in the manifest; `units` records each
        symbol's amount step and minimum (what sizing follows when the bars are backtested).
        """
        check_name(name)
        from tradeops.data.timeframes import timeframe_seconds

        timeframe_seconds(timeframe)
        columns = _columns(frames)
        if not columns or any(not len(stamps) for stamps, _ in columns.values()):
            raise DataError(f"dataset {name}: nothing to store (no bars)")
        version_hash = content_hash(columns, timeframe)
        version = version_hash[:16]
        try:
            return Manifest.model_validate_json(self.objects.get(self._manifest_key(name, version))), False
        except KeyError:
            pass
        pending = f"{ROOT}/{name}/pending/{version}.json"  # tells cleanup these new parts are not orphans yet
        marker = {"started_at": _now(), "owner": owner()}  # cleanup removes the parts once the owner is gone
        self.objects.put(pending, json.dumps(marker).encode(), "application/json")
        parts = [self._put_part(name, piece) for piece in encode(columns, timeframe_seconds(timeframe))]
        manifest = Manifest(
            dataset=name,
            version=version,
            sha256=version_hash,
            timeframe=timeframe,
            symbols=sorted(columns),
            first=min(part.first for part in parts),
            last=max(part.last for part in parts),
            bars=sum(part.bars for part in parts),
            gaps=_gaps(columns, timeframe),
            source=source,
            fetched_at=fetched_at or _now(),
            created_at=_now(),
            parts=parts,
            quality=quality or {},
            units=units or {},
        )
        body = json.dumps(manifest.model_dump(mode="json"), indent=2).encode()
        self.objects.put(self._manifest_key(name, version), body, "application/json")
        self._advance(manifest)  # after the manifest: a crash in between leaves the old pointer, never a dangling one
        self.objects.delete(pending)
        return manifest, True

    def read(self, manifest: Manifest) -> pd.DataFrame:
        """Return the version's bars as one long frame (`symbol` column), every part's sha256 checked.

        Rows come part by part: symbol by symbol within a period, or (a version written before issue 29)
        year by year within a symbol. Each symbol's rows are in time order either way.
        """
        from concurrent.futures import ThreadPoolExecutor

        def one(part: Part) -> Any:
            return decode(self._part_bytes(manifest, part), part.symbol)

        # hashing, decoding and (on S3) the GETs release the GIL: parts are read side by side, rows kept in order
        with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="dataset-read") as pool:
            return join(list(pool.map(one, manifest.parts)))

    def _part_bytes(self, manifest: Manifest, part: Part) -> bytes:
        try:
            data = self.objects.get(part.key)
        except KeyError:
            raise DataError(f"{manifest.ref}: part {part.key} is missing from the object store") from None
        if hashlib.sha256(data).hexdigest() != part.sha256:
            raise DataError(f"{manifest.ref}: part {part.key} is corrupt (sha256 differs from the manifest)")
        return data

    def delete_version(self, name: str, version: str) -> str:
        """Remove one version's manifest (its parts become orphans unless another version uses them)."""
        key = self._manifest_key(check_name(name), version)
        self.objects.delete(key)
        try:
            pointer: Latest | None = Latest.model_validate_json(self.objects.get(self._latest_key(name)))
        except (KeyError, ValidationError):
            pointer = None
        if pointer is not None and pointer.version == version:  # the latest went: point at the newest left
            remaining = self.versions(name)
            if remaining:
                self._advance(remaining[-1], stale=pointer)
            else:
                self.objects.delete(self._latest_key(name))
        return key

    def writes_in_flight(self, name: str) -> dict[str, dict[str, Any]]:
        """Return the pending-write markers of a dataset (key: `started_at` and, since DC-45, `owner`)."""
        markers = self.objects.keys(f"{ROOT}/{name}/pending/")
        return {key: json.loads(self.objects.get(key)) for key in markers}

    def orphan_parts(self, name: str) -> list[str]:
        """Return part keys no complete version lists (left by a deleted version or an interrupted write)."""
        used = {part.key for manifest in self.versions(name) for part in manifest.parts}
        return [key for key in self.objects.keys(f"{ROOT}/{name}/parts/") if key not in used]

    def _manifest_key(self, name: str, version: str) -> str:
        return f"{ROOT}/{name}/versions/{version}/manifest.json"

    def _latest_key(self, name: str) -> str:
        return f"{ROOT}/{name}/{LATEST}"

    def _put_part(self, name: str, piece: Piece) -> Part:
        import pandas as pd

        digest = hashlib.sha256(piece.data).hexdigest()
        key = f"{ROOT}/{name}/parts/{digest}.parquet"
        self.objects.put(key, piece.data, "application/vnd.apache.parquet")  # whole or not at all, in both stores
        return Part(
            symbols=piece.symbols,
            key=key,
            sha256=digest,
            bytes=len(piece.data),
            bars=piece.bars,
            first=pd.Timestamp(piece.first).isoformat(),
            last=pd.Timestamp(piece.last).isoformat(),
        )


def _gaps(columns: Columns, timeframe: str) -> dict[str, Any]:
    """Count each symbol's gaps and keep its largest; the full list is `tradeops data show --gaps`."""
    from tradeops.data.timeframes import gap_summary

    per_symbol: dict[str, dict[str, Any]] = {}
    previous: tuple[np.ndarray, dict[str, Any]] | None = None
    for symbol in sorted(columns):
        stamps = columns[symbol][0]
        if previous is None or not np.array_equal(previous[0], stamps):  # symbols on one timeline: summarised once
            previous = stamps, gap_summary(stamps, timeframe)
        per_symbol[symbol] = previous[1]
    largest = max(
        ({"symbol": symbol, **found["largest"]} for symbol, found in per_symbol.items() if found["largest"]),
        key=lambda gap: gap["missing"],
        default=None,
    )
    return {
        "missing_bars": sum(found["missing_bars"] for found in per_symbol.values()),
        "count": sum(found["count"] for found in per_symbol.values()),
        "largest": largest,
        "symbols": per_symbol,
    }


def open_datasets(objects: ObjectStore | None = None) -> DatasetStore:
    """Return the datasets in `objects`, or in the object store the settings name."""
    if objects is None:
        from tradeops.settings import load_settings
        from tradeops.store.objects import open_object_store

        settings = load_settings()
        objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    return DatasetStore(objects)
