"""Live against backtest: does the backtest still describe how this session trades?

Every `divergence_every_bars` bars the session is compared with a backtest of the same candidate
(strategy, parameters, execution settings) on the same bars, bars 0..t: the engine's own
`run_backtest` on the traded prefix. Four figures, stored per compared bar in `trader_divergence`,
shown in `trader status` and exported on /metrics:

- trades: trades the session opened (closed and still open) against the backtest's;
- position_gap: sum over symbols of |live - backtest position| x close, in cash;
- equity_drift_bps: (live - backtest equity) / backtest equity at the close, basis points;
- slippage_bps: the mean over every fill of how much worse it was than the engine's modelled price
  (the bar's open moved by the modelled slippage against the order), basis points; positive is worse.

A paper session is the backtest, so every figure is 0 (up to float rounding). A venue that fills
worse than modelled shows in slippage first and in equity drift as it compounds. Above
max_equity_drift_bps (either way) or max_slippage_bps the session moves to HALTED.

Cost: one backtest of the prefix per comparison, linear in t (about 5 ms at 2,000 bars here, see
docs/trader.md); `divergence_every_bars` bounds it for long or fast replays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from tradeops.data.bars import Bars
from tradeops.engine.backtest import run_backtest
from tradeops.store.models import TraderDivergenceRow, TraderTradeRow
from tradeops.trader.broker import Account
from tradeops.trader.control import HALTED
from tradeops.trader.risk import Breach, RiskLimits

if TYPE_CHECKING:
    from tradeops.trader.loop import SessionConfig  # the loop imports this module

BPS = 1e4
MIN_BARS = 3  # the engine refuses shorter backtests


@dataclass(frozen=True)
class Fill:
    """One fill of the session: where, when, which way (+1 buy, -1 sell) and at what price."""

    symbol: str
    bar: int
    direction: int
    price: float


@dataclass(frozen=True)
class Divergence:
    """A session against the backtest at one bar."""

    bar: int
    trades_live: int
    trades_backtest: int
    position_gap: float
    equity_live: float
    equity_backtest: float
    equity_drift_bps: float
    slippage_bps: float
    fills: int


def every(limits: RiskLimits) -> int | None:
    """Compare every this many bars: as configured, or every bar when a divergence limit is set."""
    if limits.divergence_every_bars is not None:
        return limits.divergence_every_bars
    return 1 if limits.max_equity_drift_bps is not None or limits.max_slippage_bps is not None else None


def slippage_bps(fills: Sequence[Fill], bars: Bars, slippage: float) -> float:
    """Mean adverse distance of `fills` from the engine's modelled price (open x (1 +- slippage)), bps."""
    if not fills:
        return 0.0
    total = 0.0
    for fill in fills:
        modelled = float(bars.open[fill.bar, bars.symbols.index(fill.symbol)]) * (1 + fill.direction * slippage)
        total += fill.direction * (fill.price - modelled) / modelled * BPS
    return total / len(fills)


def ledger_fills(trades: Sequence[Mapping[str, Any]], accounts: Mapping[str, Account]) -> list[Fill]:
    """Every fill the ledger holds: the entry and exit of each closed trade, the entry of each open one."""
    fills = []
    for trade in trades:
        side = 1 if trade["size"] > 0 else -1
        fills += [
            Fill(trade["symbol"], trade["entry_bar"], side, trade["entry_price"]),
            Fill(trade["symbol"], trade["exit_bar"], -side, trade["exit_price"]),
        ]
    for symbol, account in accounts.items():
        if account.position != 0:
            fills.append(Fill(symbol, account.entry_bar, 1 if account.position > 0 else -1, account.entry_price))
    return fills


def compare(
    config: SessionConfig,
    bars: Bars,
    t: int,
    *,
    equity: float,
    positions: Mapping[str, float],
    trades: int,
    fills: Sequence[Fill],
) -> Divergence:
    """The session at the close of `t` (equity, positions, trades opened, fills) against the backtest of 0..t."""
    result = run_backtest(config.strategy, config.params, bars.slice(0, t + 1), config.execution)
    modelled = float(result.equity.iloc[-1])
    held = dict.fromkeys(bars.symbols, 0.0)
    for symbol, size in zip(result.open_trades["symbol"], result.open_trades["size"], strict=True):
        held[symbol] += float(size)
    close = bars.close[t]
    gap = sum(abs(positions.get(symbol, 0.0) - held[symbol]) * float(close[s]) for s, symbol in enumerate(bars.symbols))
    return Divergence(
        bar=t,
        trades_live=trades,
        trades_backtest=len(result.trades) + len(result.open_trades),
        position_gap=float(gap),
        equity_live=equity,
        equity_backtest=modelled,
        equity_drift_bps=(equity - modelled) / modelled * BPS if modelled else 0.0,
        slippage_bps=slippage_bps(fills, bars, float(config.execution.slippage)),
        fills=len(fills),
    )


class DivergenceWatch:
    """The trading loop's side: compare at the configured bars, store the figures, breach the limits."""

    def __init__(
        self, config: SessionConfig, limits: RiskLimits, is_flat: Callable[[str, float], bool] | None = None
    ) -> None:
        self.config = config
        self.limits = limits
        self.every = every(limits)
        # a venue's fee dust (below its smallest order) is no position: not an open trade, not a fill
        self.is_flat = is_flat or (lambda _symbol, position: position == 0)

    def breaches(
        self,
        connection: Connection,
        session_id: str,
        accounts: Mapping[str, Account],
        new_trades: Sequence[Mapping[str, Any]],
        bars: Bars,
        t: int,
        equity: float,
    ) -> list[Breach]:
        """Compare at bar `t` when due (`new_trades`: closed at this bar, not yet in the ledger); the limits it
        breaks (each -> HALTED)."""
        if self.every is None or t + 1 < MIN_BARS or t % self.every:
            return []
        stored = connection.execute(select(TraderTradeRow).where(TraderTradeRow.session_id == session_id))
        trades = [*stored.mappings(), *new_trades]
        held = {symbol: a for symbol, a in accounts.items() if not self.is_flat(symbol, a.position)}
        found = compare(
            self.config,
            bars,
            t,
            equity=equity,
            positions={symbol: a.position for symbol, a in held.items()},
            trades=len(trades) + sum(1 for a in held.values() if a.position != 0),
            fills=ledger_fills(trades, held),
        )
        connection.execute(
            insert(TraderDivergenceRow).values(
                session_id=session_id, time=bars.index[t].to_pydatetime(), **found.__dict__
            )
        )
        return self._limits(found)

    def _limits(self, found: Divergence) -> list[Breach]:
        out = []
        drift, slip = self.limits.max_equity_drift_bps, self.limits.max_slippage_bps
        if drift is not None and abs(found.equity_drift_bps) > drift:
            out.append(Breach("max_equity_drift_bps", abs(found.equity_drift_bps), drift, HALTED))
        if slip is not None and found.slippage_bps > slip:
            out.append(Breach("max_slippage_bps", found.slippage_bps, slip, HALTED))
        return out
