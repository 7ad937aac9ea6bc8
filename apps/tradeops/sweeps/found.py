"""The candidate a search produces: its best point, with the record of how it was found (its provenance)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from tradeops.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


def sharpe_variance(sharpes: pd.Series) -> float | None:
    """Variance (ddof=1) of the trials' annualised Sharpe ratios; undefined ones left out; None under two."""
    values = [float(v) for v in sharpes if math.isfinite(float(v))]
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def found_candidate(
    *,
    strategy: str,
    data: str,
    params: dict[str, Any],
    execution: dict[str, Any],
    method: Literal["sweep", "walkforward", "optimize"],
    trials: int,
    variance: float | None,
    grid: dict[str, list[Any]] | None = None,
    points: list[dict[str, Any]] | None = None,
    run: str | None = None,
) -> dict[str, Any]:
    """The candidate object (as in a candidate file or a stack config) of a search's chosen point."""
    provenance: dict[str, Any] = {"method": method, "trials": trials, "sharpe_variance": variance}
    if grid is not None:
        provenance["grid"] = grid
    if points is not None:
        provenance["points"] = points
    if run is not None:
        provenance["run"] = run
    return {"strategy": strategy, "params": params, "data": data, "execution": execution, "provenance": provenance}


def best_candidate(
    table: pd.DataFrame,
    sort_by: str,
    *,
    strategy: str,
    data: str,
    grid: dict[str, list[Any]],
    execution: dict,
    run: str | None = None,
) -> dict[str, Any]:
    """A sweep's candidate: its best row by `sort_by`, the grid and the spread of Sharpe ratios it was picked from."""
    from tradeops.engine.backtest import best_rows
    from tradeops.engine.metrics import METRIC_NAMES
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params

    row = best_rows(table, sort_by, 1).iloc[0]
    values = {str(k): _plain(v) for k, v in row.items() if k not in METRIC_NAMES}
    params = validate_params(get_strategy(strategy), values).model_dump()  # the model's types: 10, not 10.0
    return found_candidate(
        strategy=strategy,
        data=data,
        params=params,
        execution=execution,
        method="sweep",
        trials=len(table),
        variance=sharpe_variance(table["sharpe"]),
        grid=grid,
        run=run,
    )


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def write_candidate(path: Path, candidate: dict[str, Any]) -> None:
    """Write a candidate file that `tradeops gate --config` reads."""
    if path.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"--candidate-out {path}: use a .yaml file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(candidate, sort_keys=False))
