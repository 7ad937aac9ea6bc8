"""A merged sweep as a run's result: the same object an unsharded sweep run stores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradeops.sweeps.parts import Part

if TYPE_CHECKING:
    import pandas as pd


def best_records(table: pd.DataFrame, sort_by: str, top: int) -> list[dict[str, Any]]:
    """The `top` best rows by `sort_by` as JSON-safe records (NaN and infinities as None)."""
    from tradeops.engine.backtest import best_rows, json_number

    return [
        {str(k): json_number(v) if isinstance(v, float) else v for k, v in row.items()}
        for row in best_rows(table, sort_by, top).to_dict("records")
    ]


def sweep_result(merged: Part, sort_by: str, top: int) -> dict[str, Any]:
    """The run result of a merged sweep (walk-forward: the object `walkforward --json` prints)."""
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import expand_grid

    manifest = merged.manifest
    if manifest.spec.kind == "walkforward":
        from tradeops.sweeps.local import walkforward_payload

        return walkforward_payload(merged)
    _, invalid = expand_grid(get_strategy(manifest.spec.strategy), manifest.spec.params, manifest.spec.grid)
    return {
        "points": len(merged.table),
        "invalid_points": invalid,
        "sort_by": sort_by,
        "best": best_records(merged.table, sort_by, top),
        "data": {
            "name": manifest.data_name,
            "version": manifest.data_version,
            "fingerprint": manifest.data_fingerprint,
        },
        "shards": manifest.shards,
    }
