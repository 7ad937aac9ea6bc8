"""Units that follow the market: round an amount down to the market's lot, refuse it below the minimum.

One arithmetic for every place that sizes an order. The compiled order core (`tradeops.engine.orders`,
hence the backtest kernel and the paper broker, which executes through the kernel's own functions)
rounds with `lot_units` and checks the minimum with `below_minimum`. The venue broker rounds with the
venue's own rule (ccxt's `amount_to_precision`) and the market's minimum; a property test holds it equal
to `units` (tests/apps/trader/test_venue_sizing.py). A lot of 0 or NaN means any fraction; a minimum of 0
or NaN means none.

`for_bars` fills the settings a user left unset from the market the bars come from: a dataset's
recorded amount precision and minimum (ccxt's `market["precision"]["amount"]` and
`market["limits"]["amount"]["min"]`, written into its manifest when fetched, or given to `data import`);
otherwise fractional units for a crypto market (a `BASE/QUOTE` symbol or a dataset fetched from a ccxt
exchange) and whole units for anything else (equities such as sample:GOOG). A setting given wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from tradeops.data.bars import Bars
    from tradeops.engine.settings import ExecutionSettings

WHOLE_UNITS = 1.0
FRACTIONAL = 0.0


@njit(cache=True)
def lot_units(amount: float, lot: float) -> float:
    """`amount` rounded down to a whole number of `lot`s (lot 0 or NaN: `amount` as it is)."""
    if np.isnan(lot) or lot == 0:
        return amount
    return amount // lot * lot  # vectorbt's size_granularity rounding, which the order core is proven equal to


@njit(cache=True)
def below_minimum(amount: float, minimum: float) -> bool:
    """Whether `amount` (units, positive) is below the market's `minimum` (0 or NaN: no minimum)."""
    return not np.isnan(minimum) and minimum > 0 and amount < minimum


@njit(cache=True)
def units(cash_available: float, price: float, lot: float, minimum: float) -> float:
    """The units `cash_available` buys at `price` per unit, rounded DOWN to the lot; 0 below the minimum.

    `price` is what one unit costs all in (slippage and a proportional fee included: price x (1 +
    slippage) x (1 + fee)). E.g. units(10_000, 30_000, 1e-5, 1e-5) = 0.33333; units(10_000, 30_000, 1, 0) = 0.
    """
    if not (price > 0) or not (cash_available > 0):
        return 0.0
    amount = lot_units(cash_available / price, lot)
    if amount <= 0 or below_minimum(amount, minimum):
        return 0.0
    return amount


def lot_code(value: float | None) -> float:
    """A lot size or minimum as the compiled functions take it: NaN for none or any fraction."""
    return np.nan if value is None or value == 0 else float(value)


def is_crypto(bars: Bars) -> bool:
    """Whether the bars are a crypto market: a `BASE/QUOTE` symbol, or a dataset fetched from a ccxt exchange."""
    origin = bars.origin
    from_ccxt = origin is not None and (origin.source or "").startswith("ccxt:")
    return from_ccxt or any("/" in symbol for symbol in bars.symbols)


def market_units(bars: Bars) -> tuple[float, float | None]:
    """(lot size, minimum) of the market the bars come from (see the module docstring)."""
    origin = bars.origin
    if origin is not None and origin.lot_size is not None:
        return origin.lot_size, origin.min_size
    minimum = origin.min_size if origin is not None else None
    return (FRACTIONAL if is_crypto(bars) else WHOLE_UNITS), minimum


def for_bars(settings: ExecutionSettings, bars: Bars) -> ExecutionSettings:
    """`settings` with an unset lot size or minimum taken from the bars' market; the ones given stay."""
    if settings.lot_size is not None and settings.min_size is not None:
        return settings
    lot, minimum = market_units(bars)
    update: dict[str, float | None] = {}
    if settings.lot_size is None:
        update["lot_size"] = lot
    if settings.min_size is None:
        update["min_size"] = minimum if minimum is not None else 0.0
    return settings.model_copy(update=update)


def describe(settings: ExecutionSettings) -> str:
    """The units in words, e.g. 'whole units', 'any fraction', 'lots of 1e-05, min 1e-05'."""
    lot, minimum = settings.lot_size, settings.min_size
    if lot is None:
        text = "the market's units"
    elif lot == 0:
        text = "any fraction"
    elif lot == 1:
        text = "whole units"
    else:
        text = f"lots of {lot:g}"
    return text + (f", min {minimum:g}" if minimum else "")


def skipped_warning(skipped: float, bars: Bars, settings: ExecutionSettings) -> str | None:
    """One line saying that `skipped` entry signals filled nothing and what to do; None when none did."""
    if not skipped:
        return None
    settings = for_bars(settings, bars)
    highest = float(np.nanmax(bars.close))
    lot = settings.lot_size or 0.0
    per_symbol = settings.cash * settings.fraction / bars.n_symbols
    return (
        f"{int(skipped)} entr{'y' if skipped == 1 else 'ies'} skipped: price up to {highest:,.2f} against "
        f"{per_symbol:,.2f} cash per symbol in {describe(settings)} (one lot: {lot * highest:,.2f}); "
        "use --lot-size 0 for fractions, a smaller --lot-size or --min-size, or more --cash"
    )
