"""Run one shard of a sweep into a part (Parquet + manifest); check a set of parts and merge them exactly.

A sweep's shard is a contiguous range of its grid points; a walk-forward's is a range of folds, each
part holding the point every fold chose on its train window (the expensive part). Parts of one sweep
share everything but their shard number; merging concatenates them in shard order, so the merged
table is, row for row, the table the unsharded run writes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tradeops.errors import ConfigError
from tradeops.sweeps.spec import PART_FORMAT, SweepSpec, split_by_cost

if TYPE_CHECKING:
    import pandas as pd

    from tradeops.data.bars import Bars
    from tradeops.engine.settings import ExecutionSettings
    from tradeops.strategies.base import Strategy, StrategyParams

METADATA_KEY = b"tradeops.part"


class PartManifest(BaseModel):
    """What a part is: which sweep, on which data, by which engine, which shard and which items."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tradeops.sweep-part/1"] = PART_FORMAT
    sweep: str
    spec: SweepSpec
    data_name: str
    data_version: str | None = None  # `dataset:NAME@VERSION` the shard read (None: a sample or a file)
    data_fingerprint: str
    engine_version: str
    shard: int
    shards: int
    items: tuple[int, int]  # grid points (sweep) or folds (walk-forward) [start, stop)
    total_items: int


@dataclass(frozen=True)
class Part:
    """One shard's rows and its manifest."""

    table: pd.DataFrame
    manifest: PartManifest


@dataclass(frozen=True)
class Prepared:
    """A spec resolved against the code and the data: strategy, points, bars, settings."""

    strategy: Strategy
    points: list[StrategyParams]
    bars: Bars
    settings: ExecutionSettings


def prepare(spec: SweepSpec) -> Prepared:
    """Load the data and expand the grid of `spec` (what every shard does first)."""
    from tradeops.data import load_bars
    from tradeops.engine.settings import ExecutionSettings
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import expand_grid

    strategy = get_strategy(spec.strategy)
    points, invalid = expand_grid(strategy, spec.params, spec.grid)
    if not points:
        raise ConfigError(f"all {invalid} grid points are invalid for {spec.strategy} (e.g. fast >= slow)")
    settings = ExecutionSettings.model_validate(spec.settings)
    return Prepared(strategy, points, load_bars(spec.data, max_gap=spec.max_gap), settings)


def fold_costs(spec: SweepSpec, ready: Prepared) -> tuple[list[tuple[int, int, int]], list[float]]:
    """The folds and their cost: each point's signals over the history up to the test start, plus its train run."""
    from tradeops.engine.walkforward import fold_windows

    assert spec.train_bars is not None and spec.test_bars is not None
    windows = fold_windows(ready.bars, spec.train_bars, spec.test_bars, spec.anchored)
    return windows, [float(len(ready.points) * (test - train + test)) for train, test, _ in windows]


def item_costs(spec: SweepSpec, ready: Prepared) -> list[float]:
    """Cost per item to split: every grid point simulates all bars of all symbols; folds grow with history."""
    if spec.kind == "walkforward":
        return fold_costs(spec, ready)[1]
    return [float(ready.bars.n_bars * ready.bars.n_symbols)] * len(ready.points)


def run_part(spec: SweepSpec, shard: int, shards: int, ready: Prepared | None = None) -> Part:
    """Compute shard `shard` of `shards` of `spec`."""
    from tradeops.engine.result import ENGINE_VERSION

    ready = ready or prepare(spec)
    items = split_by_cost(item_costs(spec, ready), shards)[shard]
    if spec.kind == "walkforward":
        table = _fold_choices(spec, ready, items)
    else:
        from tradeops.engine import run_grid

        table = run_grid(ready.strategy, ready.points[items.start : items.stop], ready.bars, ready.settings)
    manifest = PartManifest(
        sweep=spec.identity(),
        spec=spec,
        data_name=ready.bars.name,
        data_version=_version(ready.bars),
        data_fingerprint=ready.bars.fingerprint(),
        engine_version=ENGINE_VERSION,
        shard=shard,
        shards=shards,
        items=(items.start, items.stop),
        total_items=len(item_costs(spec, ready)),
    )
    return Part(table, manifest)


def _version(bars: Bars) -> str | None:
    origin = bars.origin
    return f"dataset:{origin.dataset}@{origin.version}" if origin else None


def _fold_choices(spec: SweepSpec, ready: Prepared, items: range) -> pd.DataFrame:
    import pandas as pd

    from tradeops.engine.walkforward import choose_on_train

    windows = fold_costs(spec, ready)[0]
    rows = []
    for fold in items:
        choice = choose_on_train(ready.strategy, ready.points, ready.bars, ready.settings, windows[fold], spec.sort_by)
        train, test, stop = choice.window
        rows.append(
            {"fold": fold, "train_start": train, "test_start": test, "test_stop": stop, "point": choice.point}
            | choice.train_metrics
        )
    return pd.DataFrame(rows)


def part_to_bytes(part: Part) -> bytes:
    """The part as one Parquet file, its manifest in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(part.table, preserve_index=False)
    metadata = dict(table.schema.metadata or {}) | {METADATA_KEY: part.manifest.model_dump_json().encode()}
    sink = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), sink)
    return sink.getvalue()


def part_from_bytes(name: str, data: bytes) -> Part:
    """Read a part; a ConfigError names a file that is not one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as error:
        raise ConfigError(f"{name}: not a Parquet file ({error})") from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ConfigError(f"{name}: not a sweep part (no tradeops manifest in its metadata)")
    try:
        manifest = PartManifest.model_validate_json(raw)
    except ValidationError as error:
        raise ConfigError(f"{name}: unreadable part manifest ({error.error_count()} problem(s))") from None
    return Part(table.to_pandas(), manifest)


IDENTITY = ("sweep", "data_version", "data_fingerprint", "engine_version", "shards", "total_items")


def _same_sweep(name: str, part: Part, first_name: str, first: Part) -> None:
    for field in IDENTITY:
        mine, theirs = getattr(part.manifest, field), getattr(first.manifest, field)
        if mine != theirs:
            what = {"sweep": "grid/options", "data_version": "data version"}.get(field, field)
            raise ConfigError(f"{name}: foreign part: its {what} ({mine}) differs from {first_name}'s ({theirs})")


def merge_parts(parts: Sequence[tuple[str, Part]]) -> Part:
    """Check that `parts` are every shard of one sweep exactly once; return the merged table in shard order."""
    import pandas as pd

    if not parts:
        raise ConfigError("no parts to merge")
    first_name, first = parts[0]
    by_shard: dict[int, tuple[str, Part]] = {}
    for name, part in parts:
        _same_sweep(name, part, first_name, first)
        known = by_shard.get(part.manifest.shard)
        if known is not None:
            raise ConfigError(
                f"{name}: doubled part: shard {part.manifest.shard}/{part.manifest.shards} is also {known[0]}"
            )
        start, stop = part.manifest.items
        if len(part.table) != stop - start:
            raise ConfigError(f"{name}: corrupt part: {len(part.table)} rows for items {start}..{stop}")
        by_shard[part.manifest.shard] = (name, part)
    missing = sorted(set(range(first.manifest.shards)) - set(by_shard))
    if missing:
        shown = ", ".join(f"{i}/{first.manifest.shards}" for i in missing)
        raise ConfigError(f"missing part(s): shard {shown} of sweep {first.manifest.sweep}")
    ordered = [by_shard[i][1] for i in range(first.manifest.shards)]
    table = pd.concat([p.table for p in ordered], ignore_index=True)
    manifest = first.manifest.model_copy(update={"shard": 0, "items": (0, first.manifest.total_items)})
    return Part(table, manifest)


def merge_report(parts: Sequence[tuple[str, Part]], merged: Part) -> dict[str, Any]:
    """What was merged: the sweep, its data and engine, and every part with its shard and rows."""
    manifest = merged.manifest
    return {
        "format": manifest.format,
        "sweep": manifest.sweep,
        "kind": manifest.spec.kind,
        "strategy": manifest.spec.strategy,
        "data": {
            "ref": manifest.spec.data,
            "name": manifest.data_name,
            "version": manifest.data_version,
            "fingerprint": manifest.data_fingerprint,
        },
        "engine_version": manifest.engine_version,
        "shards": manifest.shards,
        "rows": len(merged.table),
        "parts": sorted(
            (
                {"part": name, "shard": p.manifest.shard, "items": list(p.manifest.items), "rows": len(p.table)}
                for name, p in parts
            ),
            key=lambda row: row["shard"],
        ),
    }
