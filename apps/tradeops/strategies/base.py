"""The strategy protocol: a name, a parameter model, and a causal signal function.

Signals are computed for many parameter points at once: every parameter arrives as an array of
length P (P = 1 for a single backtest) and every signal array has shape (bars, symbols, P).
Signals at bar t may use bars 0..t only; the engine fills them at the open of bar t + 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from tradeops.data.bars import Bars
from tradeops.errors import ConfigError, format_validation

ParamTable = dict[str, np.ndarray]


class StrategyParams(BaseModel):
    """Base of every parameter model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Signals:
    """Boolean arrays of shape (bars, symbols, points): what to do at the next bar's open."""

    entries: np.ndarray
    exits: np.ndarray
    short_entries: np.ndarray
    short_exits: np.ndarray

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.entries, self.exits, self.short_entries, self.short_exits


@dataclass(frozen=True)
class Crossover:
    """Signals as crossings of two indicator series per point, for the grid's kernel to compare in place.

    `series` (windows, bars, symbols) holds each distinct series once; point p goes long where
    series[fast_of[p]] crosses above series[slow_of[p]] (strict on both bars: below, then above; NaN
    is neither) and exits, or goes short, where it crosses below. `signals()` materialises the same.
    """

    series: np.ndarray
    fast_of: np.ndarray
    slow_of: np.ndarray

    def points(self, items: slice) -> Crossover:
        """The same series for a run of the points only."""
        return Crossover(self.series, self.fast_of[items], self.slow_of[items])

    def signals(self) -> Signals:
        from tradeops.strategies.indicators import crossings

        columns = list(self.series)
        up, down = crossings(columns, self.fast_of, columns, self.slow_of)
        return Signals(entries=up, exits=down, short_entries=down, short_exits=up)


class Strategy(Protocol):
    """What every strategy provides."""

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[StrategyParams]]

    def signals(self, bars: Bars, params: ParamTable) -> Signals:
        """Return signals for every parameter point in `params` (arrays of equal length)."""
        ...


def crossover_form(strategy: Strategy) -> Callable[[Bars, ParamTable], Crossover] | None:
    """A strategy's `crossover(bars, params) -> Crossover`, if it defines one: its signals as crossings of two
    series, equal to `signals(bars, params)`, which a grid simulates without materialising them."""
    return getattr(strategy, "crossover", None)


def lookback(strategy: Strategy, params: StrategyParams) -> int | None:
    """How many trailing bars the signal at the last bar depends on, or None for the whole history.

    A strategy may define `lookback(params) -> int`: then its signals at bar t computed on bars
    t - lookback + 1 .. t equal those computed on every bar up to t (tests/apps/strategies/test_windowed.py
    proves it on every prefix). Only an exact window qualifies (a maximum; not a mean, whose last bits
    depend on the whole history). The trader prefers a strategy's `incremental` form
    (tradeops.strategies.incremental) and falls back to this window, then to the whole history.
    """
    method = getattr(strategy, "lookback", None)
    return None if method is None else int(method(params))


def validate_params(strategy: Strategy, raw: Mapping[str, Any]) -> StrategyParams:
    """Validate one parameter point; a ConfigError names each bad field and why."""
    try:
        return strategy.Params.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError(f"invalid parameters for {strategy.name}: {format_validation(error)}") from error


def table_from_points(points: list[StrategyParams]) -> ParamTable:
    """Stack validated parameter points into a ParamTable."""
    if not points:
        raise ConfigError("no valid parameter points")
    names = list(type(points[0]).model_fields)
    return {name: np.array([getattr(p, name) for p in points]) for name in names}


def expand_grid(
    strategy: Strategy, fixed: Mapping[str, Any], grid: Mapping[str, list[Any]]
) -> tuple[list[StrategyParams], int]:
    """Return the valid points of the cartesian grid (in order) and how many were invalid."""
    unknown = (set(fixed) | set(grid)) - set(strategy.Params.model_fields)
    if unknown:
        raise ConfigError(
            f"{strategy.name} has no parameter(s) {', '.join(sorted(unknown))}; "
            f"parameters: {', '.join(strategy.Params.model_fields)}"
        )
    names = list(grid)
    valid: list[StrategyParams] = []
    invalid = 0
    for combo in itertools.product(*(grid[n] for n in names)):
        try:
            valid.append(strategy.Params.model_validate({**fixed, **dict(zip(names, combo, strict=True))}))
        except ValidationError:
            invalid += 1
    return valid, invalid


def no_valid_points(
    strategy: Strategy, fixed: Mapping[str, Any], grid: Mapping[str, list[Any]], invalid: int
) -> ConfigError:
    """The error for a grid with no valid point: how many there were and why the first one is refused."""
    first = {**fixed, **{name: values[0] for name, values in grid.items()}}
    try:
        strategy.Params.model_validate(first)
        reason = "no point is valid"
    except ValidationError as error:
        reason = format_validation(error)
    shown = " ".join(f"{name}={value}" for name, value in first.items())
    return ConfigError(f"all {invalid} grid points are invalid for {strategy.name}; the first ({shown}): {reason}")


def warmup_bars(strategy: Strategy, params: StrategyParams) -> int | None:
    """How many bars a strategy needs before it can give its first signal, if it says (`warmup(params)`)."""
    method = getattr(strategy, "warmup", None)
    return None if method is None else int(method(params))


def neighbours(strategy: Strategy, point: StrategyParams) -> list[StrategyParams]:
    """Return the valid points one `step` away along each parameter that declares a step."""
    result = []
    for name, field in type(point).model_fields.items():
        extra = field.json_schema_extra
        step = extra.get("step") if isinstance(extra, dict) else None
        if not isinstance(step, int | float):
            continue
        for sign in (-1, 1):
            candidate = point.model_dump() | {name: getattr(point, name) + sign * step}
            try:
                result.append(strategy.Params.model_validate(candidate))
            except ValidationError:
                continue
    return result
