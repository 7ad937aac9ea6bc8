"""Run one backtest or a parameter grid through the compiled kernel."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradeops.data.bars import Bars
from tradeops.engine import kernel, metrics, sizing
from tradeops.engine.settings import DIRECTION_CODES, ExecutionSettings
from tradeops.errors import DataError
from tradeops.strategies.base import (
    Crossover,
    ParamTable,
    Signals,
    Strategy,
    StrategyParams,
    crossover_form,
    table_from_points,
)
from tradeops.strategies.indicators import computed_once

# Memory for one chunk of a grid: its signal arrays and the indicator values gathered for them
# (about BYTES_PER_CELL per bar x symbol x point); keeps a grid's memory flat at any size. A crossover
# strategy's chunk holds no per-point arrays (the kernel crosses the run's series in place): for it the
# chunk only sets how often `progress` hears.
CHUNK_BYTES = 256 * 2**20
BYTES_PER_CELL = 40  # two float64 indicator columns + four bool signal arrays + crossing temporaries
CHUNK_CELLS = CHUNK_BYTES // BYTES_PER_CELL  # bars x symbols x points simulated at once


@dataclass(frozen=True)
class BacktestResult:
    """One backtest: what ran, on what, and what came out."""

    strategy: str
    params: dict[str, Any]
    bars: Bars
    settings: ExecutionSettings
    metrics: dict[str, float]
    equity: pd.Series
    trades: pd.DataFrame  # closed trades
    open_trades: pd.DataFrame  # still open at the last bar, marked at its close


def _check_length(bars: Bars) -> None:
    if bars.n_bars < 3:
        raise DataError(f"{bars.name}: {bars.n_bars} bar(s); a backtest needs at least 3")


# What the kernel gets in place of the form it is not given (one signature: numba caches one compile).
_NO_SIGNALS = np.zeros((0, 0, 0), dtype=np.bool_)
_NO_SERIES = (np.zeros((1, 1, 1)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))  # no points to cross


def _kernel_inputs(source: Signals | Crossover) -> tuple[np.ndarray, ...]:
    """The four signal arrays and the crossover's (series, fast_of, slow_of), one of them empty."""
    if isinstance(source, Crossover):
        series = np.ascontiguousarray(source.series, dtype=np.float64)
        fast_of, slow_of = (np.ascontiguousarray(a, dtype=np.int64) for a in (source.fast_of, source.slow_of))
        return (_NO_SIGNALS,) * 4 + (series, fast_of, slow_of)
    # One memory layout for every call, so the kernel compiles (and caches) exactly one signature.
    return tuple(np.ascontiguousarray(a, dtype=np.bool_) for a in source.as_tuple()) + _NO_SERIES


def _simulate(
    source: Signals | Crossover, bars: Bars, settings: ExecutionSettings, record: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    settings = sizing.for_bars(settings, bars)
    n_points = len(source.fast_of) if isinstance(source, Crossover) else source.entries.shape[2]
    equity = np.zeros((bars.n_bars, n_points if record else 0))
    trades = np.zeros((bars.n_bars * bars.n_symbols + bars.n_symbols if record else 0, len(kernel.TRADE_FIELDS)))
    simulate = kernel.simulate_serial if n_points == 1 else kernel.simulate  # threads only for many points
    raw, n_recorded = simulate(  # type: ignore[call-arg]  # numba's Dispatcher hides the signature
        bars.open,
        bars.close,
        metrics.elapsed_days(bars.index),
        *_kernel_inputs(source),
        float(settings.cash),
        float(settings.commission),
        float(settings.slippage),
        float(settings.fraction),
        DIRECTION_CODES[settings.direction],
        sizing.lot_code(settings.lot_size),
        sizing.lot_code(settings.min_size),
        record,
        equity,
        trades,
    )
    return raw, n_recorded, equity, trades


def metrics_for(
    raw: np.ndarray, bars: Bars, settings: ExecutionSettings, benchmark: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Named metric arrays from the kernel's accumulators for `bars` under `settings`.

    `benchmark` is `benchmark_for` the bars, computed here when not given (a grid passes it once).
    """
    return metrics.from_raw(
        raw,
        initial_cash=settings.cash,
        n_bars=bars.n_bars,
        years=bars.years(),
        bars_per_year=bars.bars_per_year(),
        benchmark=benchmark if benchmark is not None else benchmark_for(bars, settings),
    )


def benchmark_for(bars: Bars, settings: ExecutionSettings) -> dict[str, float]:
    """Buy-and-hold of `bars` with the settings' cash, in the units the strategy trades (`metrics.buy_and_hold`)."""
    settings = sizing.for_bars(settings, bars)
    return metrics.buy_and_hold(
        bars.close,
        bars.bars_per_year(),
        cash=settings.cash,
        lot=sizing.lot_code(settings.lot_size),
        minimum=sizing.lot_code(settings.min_size),
    )


def trades_frame(records: pd.DataFrame, bars: Bars) -> pd.DataFrame:
    """Trades in the kernel's record layout (TRADE_FIELDS; symbol by index, exit_bar -1 while open) as the
    frame results carry: symbols by name, bars as times, and each trade's return."""
    return pd.DataFrame(
        {
            "symbol": [bars.symbols[int(i)] for i in records["symbol"]],
            "entry_time": bars.index[records["entry_bar"].to_numpy(dtype=np.int64)],
            "entry_price": records["entry_price"].astype(float),
            "exit_time": [bars.index[int(i)] if i >= 0 else pd.NaT for i in records["exit_bar"]],
            "exit_price": records["exit_price"].astype(float),
            "size": records["size"].astype(float),
            "pnl": records["pnl"].astype(float),
            "return_pct": records["pnl"] / (records["size"].abs() * records["entry_price"]) * 100,
            "fees": records["fees"].astype(float),
        }
    )


def run_backtest(strategy: Strategy, params: StrategyParams, bars: Bars, settings: ExecutionSettings) -> BacktestResult:
    """Backtest one parameter point, recording equity and every trade; its settings carry the units it used."""
    _check_length(bars)
    settings = sizing.for_bars(settings, bars)
    signals = strategy.signals(bars, table_from_points([params]))
    raw, n_recorded, equity, trades = _simulate(signals, bars, settings, record=True)
    records = pd.DataFrame(trades[: n_recorded[0]], columns=kernel.TRADE_FIELDS)
    frame = trades_frame(records, bars)
    is_open = (records["exit_bar"] < 0).to_numpy()
    values = {name: float(v[0]) for name, v in metrics_for(raw, bars, settings).items()}
    return BacktestResult(
        strategy=strategy.name,
        params=params.model_dump(),
        bars=bars,
        settings=settings,
        metrics=values,
        equity=pd.Series(equity[:, 0], index=bars.index, name="equity"),
        trades=frame[~is_open].sort_values("entry_time", kind="stable").reset_index(drop=True),
        open_trades=frame[is_open].reset_index(drop=True),
    )


def chunk_points(bars: Bars) -> int:
    """How many parameter points a grid simulates at once on `bars` (CHUNK_CELLS bar x symbol x points)."""
    return max(1, CHUNK_CELLS // (bars.n_bars * bars.n_symbols))


# A deliberately cautious rate for the estimate a sweep prints before it starts (make bench measures
# 4-60 ns per bar-point for the whole grid, depending on the machine and its load).
ESTIMATE_NS_PER_BAR_POINT = 60.0


def grid_summary(n_points: int, bars: Bars) -> str:
    """One line saying how big a grid is and about how long it takes, printed before it starts."""
    bar_points = n_points * bars.n_bars * bars.n_symbols
    chunks = math.ceil(n_points / chunk_points(bars))
    seconds = bar_points * ESTIMATE_NS_PER_BAR_POINT / 1e9
    estimate = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    return (
        f"grid: {n_points:,} points x {bars.n_symbols} symbol(s) x {bars.n_bars:,} bars = {bar_points:,} bar-points"
        f" in {chunks} chunk(s); estimate ~{estimate}"
    )


def run_grid(
    strategy: Strategy,
    points: Sequence[StrategyParams],
    bars: Bars,
    settings: ExecutionSettings,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Backtest every point; return parameters and metrics per point, in the order given.

    Points are simulated in chunks of `chunk_points` (memory stays flat); each indicator window is
    computed once for the whole run; `progress(n)` is told after each chunk. A strategy with a crossover
    form (`crossover_form`) gives its series once and the kernel crosses them in place, materialising no
    signals; any other strategy's signals are computed chunk by chunk.
    """
    _check_length(bars)
    table = table_from_points(list(points))
    chunk = chunk_points(bars)
    settings = sizing.for_bars(settings, bars)
    benchmark = benchmark_for(bars, settings)
    parts: list[dict[str, np.ndarray]] = []
    form = crossover_form(strategy)
    with computed_once():
        crossover = form(bars, table) if form is not None else None  # every point's series, once per run
        for start in range(0, len(points), chunk):
            items = slice(start, start + chunk)
            part: ParamTable = {name: values[items] for name, values in table.items()}
            source = crossover.points(items) if crossover is not None else strategy.signals(bars, part)
            raw, *_ = _simulate(source, bars, settings, record=False)
            parts.append(metrics_for(raw, bars, settings, benchmark))
            if progress is not None:
                progress(len(next(iter(part.values()))))
    merged = {name: np.concatenate([p[name] for p in parts]) for name in metrics.METRIC_NAMES}
    return pd.DataFrame({**table, **merged})


LOWER_IS_BETTER = frozenset({"max_drawdown_pct", "max_drawdown_duration_bars", "max_drawdown_duration_days"})


def best_rows(table: pd.DataFrame, by: str = "sharpe", top: int = 5) -> pd.DataFrame:
    """Return the `top` best rows by `by` (highest first; lowest first for drawdowns; NaN last)."""
    ascending = by in LOWER_IS_BETTER
    return table.sort_values(by, ascending=ascending, na_position="last", kind="stable").head(top)


def json_number(value: float) -> float | None:
    """Return a JSON-safe number: NaN and infinities become None."""
    return float(value) if math.isfinite(value) else None
