"""Walk-forward evaluation for any strategy: choose on a train window, test on the next, stitch the tests.

Fold k tests bars [T + kM, T + (k+1)M) (T = train bars, M = test bars; a remainder of 3 or more
bars is a shorter last fold, a smaller one joins the last fold) with the grid point that ranked
best on the T bars before it (from bar 0 with `anchored`). Signals are computed with every
earlier bar as history, so indicators are warm at a window's first bar; they stay causal, so no
window sees a later bar. Each test starts flat with the equity the previous one ended with, marked
at its last close: a position still open at a fold's end is valued there without an exit fee or
slippage (so with costs the stitched result is slightly optimistic, by one exit per fold) and counts
as one of that fold's trades, so the folds' trades add up to the stitched total; the stitched curve
gives the aggregate out-of-sample metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tradeops.data.bars import Bars
from tradeops.engine.backtest import BacktestResult, benchmark_for, best_rows, run_backtest, run_grid
from tradeops.engine.settings import ExecutionSettings
from tradeops.errors import ConfigError, DataError
from tradeops.strategies.base import ParamTable, Signals, Strategy, StrategyParams

MIN_WINDOW = 3  # the engine's shortest backtest
TRADES_NOTE = (
    "oos trades counts a fold's closed trades and the positions still open at its window's end: each is valued at"
    " that fold's last close (no exit fee) and the next fold starts flat, so it ends there too; the folds add up to"
    " the stitched total"
)


def with_history(strategy: Strategy, history: Bars, start: int) -> Strategy:
    """Return `strategy` whose signals on bars[start:] are computed on history[:start + len(bars)]."""

    class WithHistory:
        name: ClassVar[str] = strategy.name
        description: ClassVar[str] = strategy.description
        Params: ClassVar[type[StrategyParams]] = strategy.Params

        def signals(self, bars: Bars, params: ParamTable) -> Signals:
            full = strategy.signals(history.head(start + bars.n_bars), params)
            return Signals(*(array[start:] for array in full.as_tuple()))

    return WithHistory()


@dataclass(frozen=True)
class Fold:
    """One train window, the point chosen on it, and that point's out-of-sample test."""

    number: int
    train: tuple[int, int]  # bar range [start, stop)
    test: tuple[int, int]
    params: StrategyParams
    train_metrics: dict[str, float]
    result: BacktestResult

    @property
    def held_to_end(self) -> int:
        """Positions still open at the test window's last bar: valued at its close, counted as this fold's trades."""
        return len(self.result.open_trades)

    @property
    def trades(self) -> int:
        """This fold's share of the stitched total: its closed trades and the positions held to its end."""
        return int(self.result.metrics["trades"]) + self.held_to_end


@dataclass(frozen=True)
class WalkForwardResult:
    """Every fold and the stitched out-of-sample record."""

    strategy: str
    bars: Bars
    train_bars: int
    test_bars: int
    anchored: bool
    sort_by: str
    points: int
    folds: list[Fold]
    equity: pd.Series  # stitched out-of-sample equity
    trades: pd.DataFrame  # every out-of-sample trade, fold-end positions included
    metrics: dict[str, float]


def fold_windows(bars: Bars, train_bars: int, test_bars: int, anchored: bool) -> list[tuple[int, int, int]]:
    """Return (train start, test start, test stop) per fold; a clear error when none fits."""
    if train_bars < MIN_WINDOW or test_bars < MIN_WINDOW:
        raise ConfigError(f"train and test windows need at least {MIN_WINDOW} bars each")
    if train_bars + test_bars > bars.n_bars:
        raise DataError(
            f"{bars.name}: {bars.n_bars} bars cannot hold one fold of {train_bars} train + {test_bars} test bars"
        )
    windows = []
    start = train_bars
    while bars.n_bars - start >= MIN_WINDOW:
        stop = start + test_bars if bars.n_bars - (start + test_bars) >= MIN_WINDOW else bars.n_bars
        windows.append((0 if anchored else start - train_bars, start, stop))
        start = stop
    return windows


def _stitched_metrics(
    curve: np.ndarray, trades: pd.DataFrame, folds: list[Fold], oos: Bars, settings: ExecutionSettings
) -> dict[str, float]:
    cash = settings.cash
    per_year = oos.bars_per_year()
    returns = np.diff(curve) / curve[:-1]
    std = returns.std(ddof=1) if len(returns) > 1 else math.nan
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2)) if len(returns) else math.nan
    growth = curve[-1] / cash
    years = oos.years()
    pnl = trades["pnl"].to_numpy()
    gross_profit, gross_loss = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    benchmark = benchmark_for(oos, settings)
    total = (growth - 1) * 100
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "total_return_pct": float(total),
            "cagr_pct": float((growth ** (1 / years) - 1) * 100) if years > 0 and growth > 0 else math.nan,
            "sharpe": float(returns.mean() / std * math.sqrt(per_year)) if std else math.nan,
            "sortino": float(returns.mean() / downside * math.sqrt(per_year)) if downside else math.nan,
            "max_drawdown_pct": float((1 - curve / np.maximum.accumulate(curve)).max() * 100),
            "profit_factor": float(gross_profit / gross_loss) if gross_loss else math.nan,
            "win_rate_pct": float((pnl > 0).mean() * 100) if len(pnl) else math.nan,
            "exposure_pct": float(
                sum(f.result.metrics["exposure_pct"] * f.result.bars.n_bars for f in folds) / oos.n_bars
            ),
            "trades": float(len(pnl)),
            "skipped_entries": float(sum(f.result.metrics["skipped_entries"] for f in folds)),
            **benchmark,
            "excess_return_pct": float(total - benchmark["buy_and_hold_return_pct"]),
        }


@dataclass(frozen=True)
class FoldChoice:
    """What a fold's train window chose: the point's index in the grid and its train metrics."""

    window: tuple[int, int, int]  # train start, test start, test stop
    point: int
    train_metrics: dict[str, float]


def choose_on_train(
    strategy: Strategy,
    points: Sequence[StrategyParams],
    bars: Bars,
    settings: ExecutionSettings,
    window: tuple[int, int, int],
    sort_by: str,
    progress: Callable[[int], None] | None = None,
) -> FoldChoice:
    """Run the grid on one fold's train window; return the best point by `sort_by`."""
    train_start, test_start, _ = window
    table = run_grid(
        with_history(strategy, bars, train_start), points, bars.slice(train_start, test_start), settings, progress
    )
    best = best_rows(table, sort_by, 1)
    point = int(best.index[0])
    names = set(points[point].model_dump())
    return FoldChoice(window, point, {str(k): float(v) for k, v in best.iloc[0].items() if k not in names})


def walk_forward(
    strategy: Strategy,
    points: Sequence[StrategyParams],
    bars: Bars,
    settings: ExecutionSettings,
    *,
    train_bars: int,
    test_bars: int,
    anchored: bool = False,
    sort_by: str = "sharpe",
    progress: Callable[[int], None] | None = None,
) -> WalkForwardResult:
    """Run every fold; `progress(n)` is told after each batch of simulated points (folds x (points + 1))."""
    if not points:
        raise ConfigError("no valid parameter points")
    choices = [
        choose_on_train(strategy, points, bars, settings, window, sort_by, progress)
        for window in fold_windows(bars, train_bars, test_bars, anchored)
    ]
    return stitch_folds(
        strategy,
        points,
        bars,
        settings,
        choices,
        train_bars=train_bars,
        test_bars=test_bars,
        anchored=anchored,
        sort_by=sort_by,
        progress=progress,
    )


def stitch_folds(
    strategy: Strategy,
    points: Sequence[StrategyParams],
    bars: Bars,
    settings: ExecutionSettings,
    choices: Sequence[FoldChoice],
    *,
    train_bars: int,
    test_bars: int,
    anchored: bool,
    sort_by: str,
    progress: Callable[[int], None] | None = None,
) -> WalkForwardResult:
    """Test each fold's choice on its test window, each starting with the equity the previous one ended with."""
    folds: list[Fold] = []
    equity = settings.cash
    for number, choice in enumerate(choices, start=1):
        train_start, test_start, test_stop = choice.window
        chosen = points[choice.point]
        result = run_backtest(
            with_history(strategy, bars, test_start),
            chosen,
            bars.slice(test_start, test_stop),
            settings.model_copy(update={"cash": equity}),
        )
        if progress is not None:
            progress(1)
        equity = float(result.equity.iloc[-1])
        folds.append(
            Fold(number, (train_start, test_start), (test_start, test_stop), chosen, choice.train_metrics, result)
        )
    oos = bars.slice(folds[0].test[0], folds[-1].test[1])
    stitched = pd.concat([f.result.equity for f in folds])
    trades = pd.concat([frame for f in folds for frame in (f.result.trades, f.result.open_trades)], ignore_index=True)
    curve = np.concatenate([[settings.cash], stitched.to_numpy()])
    return WalkForwardResult(
        strategy=strategy.name,
        bars=bars,
        train_bars=train_bars,
        test_bars=test_bars,
        anchored=anchored,
        sort_by=sort_by,
        points=len(points),
        folds=folds,
        equity=stitched,
        trades=trades,
        metrics=_stitched_metrics(curve, trades, folds, oos, settings),
    )


def walk_forward_to_dict(result: WalkForwardResult) -> dict[str, Any]:
    """Return the object `tradeops backtest walkforward --json` prints (NaN as null)."""
    from tradeops.engine.backtest import json_number

    index = result.bars.index

    def window(bounds: tuple[int, int]) -> dict[str, Any]:
        return {
            "start": index[bounds[0]].isoformat(),
            "end": index[bounds[1] - 1].isoformat(),
            "bars": bounds[1] - bounds[0],
        }

    return {
        "strategy": result.strategy,
        "data": {"name": result.bars.name, "fingerprint": result.bars.fingerprint(), **result.bars.provenance()},
        "train_bars": result.train_bars,
        "test_bars": result.test_bars,
        "anchored": result.anchored,
        "sort_by": result.sort_by,
        "points": result.points,
        "folds": [
            {
                "fold": fold.number,
                "train": window(fold.train),
                "test": window(fold.test),
                "params": fold.params.model_dump(),
                "train_metrics": {k: json_number(v) for k, v in fold.train_metrics.items()},
                "oos_metrics": {k: json_number(v) for k, v in fold.result.metrics.items()},
                "final_equity": json_number(float(fold.result.equity.iloc[-1])),
                "oos_trades": fold.trades,
                "held_to_fold_end": fold.held_to_end,
            }
            for fold in result.folds
        ],
        "oos": {
            "start": result.equity.index[0].isoformat(),
            "end": result.equity.index[-1].isoformat(),
            "initial_cash": json_number(float(result.folds[0].result.settings.cash)),
            "final_equity": json_number(float(result.equity.iloc[-1])),
            "metrics": {k: json_number(v) for k, v in result.metrics.items()},
        },
    }
