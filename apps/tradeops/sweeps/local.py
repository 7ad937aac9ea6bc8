"""Run a sharded sweep on this machine (one worker process per shard) and turn merged parts into results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeops.errors import ConfigError, DataError
from tradeops.processes import results, worker_pool
from tradeops.sweeps.parts import Part, merge_parts, part_from_bytes, part_to_bytes, prepare, run_part
from tradeops.sweeps.spec import SweepSpec

if TYPE_CHECKING:
    import pandas as pd

TABLE_SUFFIXES = (".csv", ".json", ".parquet")


def shard_bytes(spec_json: str, shard: int, shards: int) -> bytes:
    """One shard, start to finish, as a pod runs it: load the data, compute, return the part file's bytes."""
    return part_to_bytes(run_part(SweepSpec.model_validate_json(spec_json), shard, shards))


def run_sharded(spec: SweepSpec, workers: int, *, shards: int | None = None) -> Part:
    """Run `shards` (default `workers`) shards in `workers` fresh processes; merge their parts.

    A `dataset:NAME` is pinned first, so every shard reads the same version.
    """
    from tradeops.data.pinning import pin

    count = shards or workers
    spec_json = spec.model_copy(update={"data": pin(spec.data).reference}).model_dump_json()
    with worker_pool(workers) as pool:  # fresh interpreters that die with this process
        futures = [pool.submit(shard_bytes, spec_json, shard, count) for shard in range(count)]
        parts = [part_from_bytes(f"shard {i}", data) for i, data in enumerate(results(futures, "a sweep shard"))]
    return merge_parts([(f"shard {p.manifest.shard}", p) for p in parts])


def write_table(table: pd.DataFrame, out: Path) -> None:
    """Write a sweep's table as .csv, .json (records) or .parquet: the one writer sharded and unsharded share."""
    if out.suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"--out {out}: use a .csv, .json or .parquet file")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        table.to_csv(out, index=False)
    elif out.suffix == ".json":
        table.to_json(out, orient="records", indent=2)
    else:
        table.to_parquet(out, index=False)


def walkforward_payload(merged: Part) -> dict[str, Any]:
    """Stitch a merged walk-forward: test each fold's choice in order; the object `walkforward --json` prints."""
    from tradeops.engine.walkforward import FoldChoice, stitch_folds, walk_forward_to_dict

    spec = merged.manifest.spec
    ready = prepare(spec)
    if ready.bars.fingerprint() != merged.manifest.data_fingerprint:
        raise DataError(f"{spec.data}: the data changed since the shards ran (fingerprint differs)")
    names = {"fold", "train_start", "test_start", "test_stop", "point"}
    choices = [
        FoldChoice(
            (int(row["train_start"]), int(row["test_start"]), int(row["test_stop"])),
            int(row["point"]),
            {str(k): float(v) for k, v in row.items() if k not in names},
        )
        for row in merged.table.to_dict("records")
    ]
    assert spec.train_bars is not None and spec.test_bars is not None
    result = stitch_folds(
        ready.strategy,
        ready.points,
        ready.bars,
        ready.settings,
        choices,
        train_bars=spec.train_bars,
        test_bars=spec.test_bars,
        anchored=spec.anchored,
        sort_by=spec.sort_by,
    )
    return walk_forward_to_dict(result)
