"""Risk limits and what breaching one does.

- max_position_notional: an entry is sized down so its notional stays under the limit; a position
  whose marked notional grows past it moves the trader to REDUCING (only exposure-reducing orders).
- max_daily_loss_pct: equity down this much since the last close of the previous day -> HALTED.
- max_drawdown_pct: equity down this much from its peak -> HALTED.
Pre-trade checks (`tradeops.trader.pretrade`) judge every order just before the broker sends it:
max_order_notional, max_total_notional (with max_position_notional per symbol), max_orders_per_minute,
price_collar_pct, duplicate_window_seconds and require_balance. An order over one is rejected, never
resized; rejection_burst rejections within rejection_window_bars bars -> HALTED.
Divergence from a backtest of the same bars (`tradeops.trader.divergence`): max_equity_drift_bps and
max_slippage_bps -> HALTED, compared every divergence_every_bars bars.
A tripped state holds until someone resumes the trader (`tradeops trader resume`, the API or Slack);
a resume acknowledges the loss so far, so drawdown and daily loss count again from the equity then.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from tradeops.trader.states import HALTED, REDUCING, RUNNING

SEVERITY = {RUNNING: 0, REDUCING: 1, HALTED: 2}


class RiskLimits(BaseModel):
    """Limits of one trading session; unset means no limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_position_notional: float | None = Field(
        None, gt=0, description="largest notional per symbol, in cash (e.g. 6000)"
    )
    max_daily_loss_pct: float | None = Field(None, gt=0, le=100, description="largest loss in a day, % of equity")
    max_drawdown_pct: float | None = Field(None, gt=0, le=100, description="largest fall from the equity peak, %")
    max_order_notional: float | None = Field(
        None, gt=0, description="pre-trade: largest notional of one entry order, in cash (e.g. 5000)"
    )
    max_total_notional: float | None = Field(
        None, gt=0, description="pre-trade: largest gross notional over all symbols after an entry, in cash"
    )
    max_orders_per_minute: int | None = Field(
        None, ge=1, description="pre-trade: most orders sent in any 60 s of wall-clock time (e.g. 30)"
    )
    price_collar_pct: float | None = Field(
        None, gt=0, le=100, description="pre-trade: largest distance of an order's price from the last close, %"
    )
    duplicate_window_seconds: float | None = Field(
        None, gt=0, description="pre-trade: refuse an order with the symbol, side and size of one sent this recently"
    )
    require_balance: bool = Field(True, description="pre-trade: refuse an entry whose notional exceeds free cash")
    rejection_burst: int | None = Field(
        None, ge=1, description="this many pre-trade rejections within rejection_window_bars bars halt the trader"
    )
    rejection_window_bars: int = Field(10, ge=1, description="the window of rejection_burst, in bars")
    divergence_every_bars: int | None = Field(
        None,
        ge=1,
        description="compare with a backtest of the same bars every N bars (unset: every bar when a "
        "divergence limit is set, else never)",
    )
    max_equity_drift_bps: float | None = Field(
        None, gt=0, description="live equity this far from the backtest's, either way, in bps -> HALTED (e.g. 50)"
    )
    max_slippage_bps: float | None = Field(
        None, gt=0, description="mean fill this much worse than the modelled price, in bps -> HALTED (e.g. 20)"
    )


@dataclass(frozen=True)
class Breach:
    limit: str
    value: float
    threshold: float
    state: str  # the state it moves the trader to

    def describe(self) -> str:
        return f"{self.limit} breached: {self.value:,.2f} > {self.threshold:,.2f}"


def breaches(
    limits: RiskLimits, *, equity: float, peak: float, day_start: float, notionals: dict[str, float]
) -> list[Breach]:
    """Every limit the marked state breaks."""
    found = []
    drawdown = (1 - equity / peak) * 100 if peak > 0 else 0.0
    daily_loss = (1 - equity / day_start) * 100 if day_start > 0 else 0.0
    if limits.max_drawdown_pct is not None and drawdown > limits.max_drawdown_pct:
        found.append(Breach("max_drawdown_pct", drawdown, limits.max_drawdown_pct, HALTED))
    if limits.max_daily_loss_pct is not None and daily_loss > limits.max_daily_loss_pct:
        found.append(Breach("max_daily_loss_pct", daily_loss, limits.max_daily_loss_pct, HALTED))
    if limits.max_position_notional is not None:
        for symbol, notional in notionals.items():
            if notional > limits.max_position_notional:
                found.append(
                    Breach(f"max_position_notional[{symbol}]", notional, limits.max_position_notional, REDUCING)
                )
    return found


def escalate(current: str, found: list[Breach]) -> str:
    """The state after `found`: never less severe than the current one."""
    return max([current, *(b.state for b in found)], key=SEVERITY.__getitem__)


def blocked(state: str, intent_is_close: bool) -> str | None:
    """Why the state refuses an order, or None when it may go."""
    if state == HALTED:
        return "trader halted"
    if state == REDUCING and not intent_is_close:
        return "reduce-only: entries refused"
    return None
