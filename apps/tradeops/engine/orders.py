"""Order execution for one account: buy or sell at a price, with fees, slippage, sizing and unit size.

This is tradeops' own order core, compiled by numba and cached on disk. Its rules are the documented
order semantics of vectorbt 1.2.0 (`vectorbt.portfolio.nb.buy_nb` and `sell_nb`) for the orders the
engine sends: no fixed fee per order, no minimum or maximum size (the size asked for is the cap), cash
not locked, partial fills allowed. It is written here from those semantics, not copied, and
`tests/apps/engine/test_orders.py` proves it equal to vectorbt's functions on random order sequences
and whole backtests equal to `vectorbt.Portfolio.from_signals`; vectorbt is that reference in the
tests, and nothing the engine or the trader runs imports it.

An account holds:

- `cash`: the money in the account, a short sale's proceeds included;
- `position`: units held, negative while short;
- `debt`: what the open short was sold for (units times their average sale price; 0 when not short);
- `free_cash`: the cash left to open positions with: `cash` minus twice the debt, so a short
  reserves its sale value as collateral (equal to `cash` while long or flat).

Amounts are compared with a tolerance (`REL_TOL`, `ABS_TOL`): a sum that cancels within it is
exactly 0, so selling a position down to 1e-17 units closes it.

numba's disk cache keys each compiled function on its own file: the kernel, which compiles these
functions into its loop, does not see an edit of this file. After changing it, delete
`engine/__pycache__/kernel.*.nbi` (the test `test_dc_18_the_cached_kernel_runs_the_current_order_core`
fails until then); a fresh checkout or image compiles everything anew.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from tradeops.engine.sizing import lot_units

REL_TOL = 1e-9  # relative: 1,000,000,000 and 1,000,000,001 are the same amount
ABS_TOL = 1e-12  # absolute: an amount this close to 0 is 0

# OrderOutcome.status
FILLED, IGNORED, REJECTED = 0, 1, 2
# OrderOutcome.reason: why an order did not fill; NO_REASON when it filled.
NO_REASON = -1
(
    SIZE_ZERO,  # nothing to trade: the size (after rounding to whole units) is 0
    NO_CASH_TO_SHORT,  # a sale of "as much as possible" with no position and no free cash
    NO_CASH_TO_BUY,  # a buy with a budget of 0
    NO_POSITION,  # a reduce-only sale with no position
    FEES_EXCEED_CASH,  # the budget (a sale: the free cash) is too small to pay for any fill and its fees
    NEGATIVE_SIZE,  # the size came out below 0 (a reduce-only sale while short)
    BELOW_MINIMUM,  # the size is below the market's minimum amount (the kernel's `_open` checks it)
) = range(7)
# The word for each reason, as the paper broker has always recorded it in the trader's ledger.
REASON_WORDS = (
    "sizezero",
    "nocashshort",
    "nocashlong",
    "noopenposition",
    "cantcoverfees",
    "minsizenotreached",
    "minsizenotreached",
)


class AccountState(NamedTuple):
    """One account before or after an order (see the module docstring)."""

    cash: float
    position: float
    debt: float
    free_cash: float


class OrderOutcome(NamedTuple):
    """What one order did: units, price per unit (slippage included) and fees if filled; NaN if not."""

    size: float
    price: float
    fees: float
    status: int  # FILLED, IGNORED or REJECTED
    reason: int  # NO_REASON when filled, else SIZE_ZERO ... NEGATIVE_SIZE


@njit(cache=True)
def same_amount(a: float, b: float) -> bool:
    """Whether two finite amounts are equal within the tolerance (never for NaN or infinities)."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return False
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


@njit(cache=True)
def add_amounts(a: float, b: float) -> float:
    """Return a + b, or exactly 0 when the two cancel within the tolerance."""
    total = a + b
    if np.isfinite(total) and abs(total) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL):
        return 0.0
    return total


@njit(cache=True)
def _below(a: float, b: float) -> bool:
    """a < b by more than the tolerance."""
    return a < b and not same_amount(a, b)


@njit(cache=True)
def _unfilled(status: int, reason: int) -> OrderOutcome:
    return OrderOutcome(np.nan, np.nan, np.nan, status, reason)


@njit(cache=True)
def buy(
    state: AccountState,
    size: float,
    price: float,
    fees: float,
    slippage: float,
    granularity: float,
    percent: float,
) -> tuple[AccountState, OrderOutcome]:
    """Buy up to `size` units (np.inf: as many as the budget allows) at `price` raised by `slippage`.

    The budget is the cash, times `percent` if given (NaN: all of it); `fees` is a fraction of the
    notional and is paid from the budget too; units are whole multiples of `granularity` (NaN:
    fractional). When the budget cannot buy `size`, it buys what the budget can. Buying while short
    covers the short first (its debt shrinks at the short's average sale price), then goes long.
    Returns the account after the order and the order's outcome (the account unchanged if not filled).
    """
    fill_price = price * (1 + slippage)
    budget = state.cash
    if not np.isnan(percent):
        budget = min(budget, percent * budget)
    if budget == 0:
        return state, _unfilled(REJECTED, NO_CASH_TO_BUY)
    if np.isinf(size) and np.isinf(budget):
        raise ValueError("cannot buy an unbounded size with an unbounded budget")
    if size == 0:
        return state, _unfilled(IGNORED, SIZE_ZERO)
    wanted = lot_units(size, granularity)

    cost = wanted * fill_price
    fee = cost * fees
    if same_amount(cost + fee, budget) or cost + fee < budget:
        units, paid_fees, spent = wanted, fee, cost + fee
    else:  # the budget falls short: spend all of it, units plus their fees
        for_units = (0.0 if abs(budget) <= ABS_TOL else budget) / (1 + fees)
        if for_units <= 0:
            return state, _unfilled(REJECTED, FEES_EXCEED_CASH)
        units = for_units / fill_price
        if np.isnan(granularity):
            paid_fees, spent = budget - for_units, budget
        else:
            units = lot_units(units, granularity)
            paid_fees = units * fill_price * fees
            spent = units * fill_price + paid_fees
    if same_amount(wanted, 0.0):
        return state, _unfilled(IGNORED, SIZE_ZERO)
    if _below(units, 0.0):
        return state, _unfilled(REJECTED, NEGATIVE_SIZE)

    position = add_amounts(state.position, units)
    if state.position < 0:  # cover: release the covered units' share of the debt
        covered = units if position < 0 else abs(state.position)
        released = covered * (state.debt / abs(state.position))
        debt = add_amounts(state.debt, -released)
        free_cash = add_amounts(state.free_cash + 2 * released, -spent)
    else:
        debt, free_cash = state.debt, add_amounts(state.free_cash, -spent)
    after = AccountState(add_amounts(state.cash, -spent), position, debt, free_cash)
    return after, OrderOutcome(units, fill_price, paid_fees, FILLED, NO_REASON)


@njit(cache=True)
def _most_to_sell(state: AccountState, fill_price: float, fees: float) -> tuple[float, int]:
    """(units, NO_REASON): what a sale can reach, the long position plus the short its free cash (the
    sale's proceeds included) can carry with fees; or (NaN, why not)."""
    held = max(state.position, 0.0)
    free_cash = add_amounts(state.free_cash, held * fill_price * (1 - fees))
    if free_cash <= 0:
        if state.position <= 0:
            return np.nan, NO_CASH_TO_SHORT
        return held, NO_REASON
    reach = add_amounts(held, (0.0 if abs(free_cash) <= ABS_TOL else free_cash) / (fill_price * (1 + fees)))
    if reach <= 0:
        return np.nan, FEES_EXCEED_CASH
    return reach, NO_REASON


@njit(cache=True)
def sell(
    state: AccountState,
    size: float,
    price: float,
    fees: float,
    slippage: float,
    granularity: float,
    percent: float,
    reduce_only: bool,
) -> tuple[AccountState, OrderOutcome]:
    """Sell up to `size` units at `price` lowered by `slippage`: close a long, then (unless
    `reduce_only`) sell short.

    `reduce_only` sells at most the long position held. Otherwise `size` np.inf with a `percent`
    sells `percent` of what the account can reach (the long position, then the short its free cash
    can carry with fees); a finite `size` is sold as asked, times `percent` if given. `fees` is a
    fraction of the notional, deducted from the proceeds; units are whole multiples of `granularity`
    (NaN: fractional). A short adds its sale value to the debt and takes twice that, plus the fees,
    from the free cash. Returns the account after the order and the order's outcome.
    """
    fill_price = price * (1 - slippage)
    if reduce_only:
        units = min(state.position, size)
    elif np.isinf(size) and not np.isnan(percent):
        units, reason = _most_to_sell(state, fill_price, fees)
        if reason != NO_REASON:
            return state, _unfilled(REJECTED, reason)
    else:
        units = size
    if not np.isnan(percent):
        units = percent * units
    if reduce_only:
        if state.position == 0:
            return state, _unfilled(REJECTED, NO_POSITION)
    elif np.isinf(units):
        raise ValueError("cannot sell short an unbounded size: give a percent or a finite size")
    units = lot_units(units, granularity)
    if same_amount(units, 0.0):
        return state, _unfilled(IGNORED, SIZE_ZERO)
    if _below(units, 0.0):
        return state, _unfilled(REJECTED, NEGATIVE_SIZE)

    proceeds = units * fill_price
    paid_fees = proceeds * fees
    net = add_amounts(proceeds, -paid_fees)
    if net < 0:
        return state, _unfilled(REJECTED, FEES_EXCEED_CASH)
    position = add_amounts(state.position, -units)
    if position < 0:  # short: the units sold below zero become debt, reserved twice in the free cash
        shorted = units if state.position < 0 else abs(position)
        sold_short = shorted * fill_price
        debt = state.debt + sold_short
        free_cash = add_amounts(state.free_cash, add_amounts(net, -2 * sold_short))
    else:
        debt, free_cash = state.debt, state.free_cash + net
    after = AccountState(state.cash + net, position, debt, free_cash)
    return after, OrderOutcome(units, fill_price, paid_fees, FILLED, NO_REASON)
