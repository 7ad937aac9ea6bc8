"""The compiled simulation loop, executing every order through our order core (`tradeops.engine.orders`).

One call simulates P parameter points over S symbols. Each point is a portfolio of S accounts
with equal starting cash; its equity is their sum. Signals come as boolean arrays (bars, symbols, P) or,
for a crossover strategy, as its indicator series, each distinct one once (windows, bars, symbols): the
loop then crosses point p's two series bar by bar, so a grid never materialises signals per point.
Metrics accumulate while the loop runs, so a grid never materialises (bars x points) value arrays; full
equity and trades are recorded only on request (single backtests). Compiled once and cached on disk
(numba `cache=True`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tradeops.engine import orders, sizing
from tradeops.engine.serial import serial_twin

# Columns of the per-point accumulator array returned by `simulate`.
RAW_FIELDS = (
    "final_equity",
    "max_drawdown",
    "max_drawdown_bars",
    "return_mean",
    "return_m2",
    "downside_sq",
    "exposure_bars",
    "closed_trades",
    "winning_trades",
    "gross_profit",
    "gross_loss",
    "pnl_sq",
    "n_returns",
    "skipped_entries",
    "max_drawdown_days",
)
(
    FINAL_EQUITY,
    MAX_DRAWDOWN,
    MAX_DRAWDOWN_BARS,
    RETURN_MEAN,
    RETURN_M2,
    DOWNSIDE_SQ,
    EXPOSURE_BARS,
    CLOSED_TRADES,
    WINNING_TRADES,
    GROSS_PROFIT,
    GROSS_LOSS,
    PNL_SQ,
    N_RETURNS,
    SKIPPED_ENTRIES,
    MAX_DRAWDOWN_DAYS,
) = range(len(RAW_FIELDS))
TRADE_FIELDS = ("symbol", "entry_bar", "entry_price", "exit_bar", "exit_price", "size", "pnl", "fees")
LONG_ONLY, LONG_SHORT, SHORT_ONLY = 0, 1, 2


@njit(cache=True)
def _open(state, price, is_long, fees, slippage, granularity, fraction, size, minimum):
    """Open a long (buy) or a short (sell) of up to `size` units with `fraction` of what the account can reach,
    in whole lots of `granularity` (NaN: any fraction); an amount below `minimum` (NaN: none) is not sent."""
    if is_long:
        after, result = orders.buy(state, size, price, fees, slippage, granularity, fraction)
    else:
        after, result = orders.sell(state, size, price, fees, slippage, granularity, fraction, False)
    if result.status != orders.FILLED:
        return after, result
    if result.size == 0:  # less than one lot: the order core "fills" nothing, which is no entry
        return state, orders.OrderOutcome(np.nan, np.nan, np.nan, orders.IGNORED, orders.SIZE_ZERO)
    if sizing.below_minimum(result.size, minimum):
        return state, orders.OrderOutcome(np.nan, np.nan, np.nan, orders.IGNORED, orders.BELOW_MINIMUM)
    return after, result


@njit(cache=True)
def covered_part(held, entry_price, entry_fees, result):
    """The trade a partial cover of a short of `held` units closes: (its size, its share of the entry fees, its P&L).

    The rest of the short stays open with the rest of the entry fees; its P&L is what the whole makes beyond this."""
    share_fees = entry_fees * result.size / -held
    return -result.size, share_fees, result.size * (entry_price - result.price) - share_fees - result.fees


@njit(cache=True)
def _close(state, price, fees, slippage, granularity):
    """Close the whole position: sell a long (reduce-only), buy back a short.

    A short whose cover costs more than the account's cash is covered as far as the cash goes, in whole lots
    of `granularity` (as vectorbt and a venue do); the rest stays short. The whole position is asked for
    unrounded, so a position of whole lots is never cut by a lot through float division."""
    if state.position > 0:
        return orders.sell(state, state.position, price, fees, slippage, np.nan, np.nan, True)
    after, result = orders.buy(state, -state.position, price, fees, slippage, np.nan, np.nan)
    if result.status != orders.FILLED or np.isnan(granularity) or granularity == 0:
        return after, result
    if orders.same_amount(result.size, -state.position):
        return after, result
    whole = sizing.lot_units(result.size, granularity)
    if whole == 0:  # the cash covers less than one lot: nothing is bought
        return state, orders.OrderOutcome(np.nan, np.nan, np.nan, orders.REJECTED, orders.NO_CASH_TO_BUY)
    return orders.buy(state, whole, price, fees, slippage, np.nan, np.nan)


@njit(cache=True)
def decide(entry, exit_, short_entry, short_exit, direction):
    """(go_long, go_short, leave_long, leave_short) from one bar's signals; the trader uses the same rules.

    An entry and an exit on the same bar cancel: no trade either way.
    """
    go_long = entry and not exit_ and direction != SHORT_ONLY
    go_short = short_entry and not short_exit and direction != LONG_ONLY
    leave_long = (exit_ and not entry) or go_short
    leave_short = (short_exit and not short_entry) or go_long
    return go_long, go_short, leave_long, leave_short


# One bar's signals for one symbol, as bits of a code (0: no signal, as on most bars).
ENTRY, EXIT, SHORT_ENTRY, SHORT_EXIT = 1, 2, 4, 8


@njit(cache=True)
def crossing_codes(fast, slow, t, codes):
    """Fill codes[s] with bar t's signals where `fast` crossed `slow` from bar t - 1 to bar t (up: entry and
    short exit; down: exit and short entry; strict on both bars, NaN compares false, as `Crossover.signals`
    materialises them); return whether any symbol has one. One branch-free pass over the symbols."""
    if t == 0:
        codes[:] = 0
        return False
    fast_before, slow_before, fast_now, slow_now = fast[t - 1], slow[t - 1], fast[t], slow[t]
    any_signal = np.uint8(0)
    for s in range(codes.shape[0]):
        up = (fast_before[s] < slow_before[s]) & (fast_now[s] > slow_now[s])
        down = (fast_before[s] > slow_before[s]) & (fast_now[s] < slow_now[s])
        code = np.uint8(up) * np.uint8(ENTRY | SHORT_EXIT) | np.uint8(down) * np.uint8(EXIT | SHORT_ENTRY)
        codes[s] = code
        any_signal |= code
    return any_signal != 0


@njit(cache=True)
def crossing_code_one(fast, slow, t, codes):
    """`crossing_codes` for one symbol, indexing the two series directly (issue 29: on one symbol the row views
    the many-symbol pass takes cost more than the crossing itself; on many symbols that pass is faster)."""
    if t == 0:
        codes[0] = 0
        return False
    up = (fast[t - 1, 0] < slow[t - 1, 0]) & (fast[t, 0] > slow[t, 0])
    down = (fast[t - 1, 0] > slow[t - 1, 0]) & (fast[t, 0] < slow[t, 0])
    code = np.uint8(up) * np.uint8(ENTRY | SHORT_EXIT) | np.uint8(down) * np.uint8(EXIT | SHORT_ENTRY)
    codes[0] = code
    return code != 0


@njit(cache=True)
def array_codes(entries, exits, short_entries, short_exits, t, p, codes):
    """Fill codes[s] with point p's signals at bar t from the four signal arrays; return whether any is set."""
    any_signal = np.uint8(0)
    for s in range(codes.shape[0]):
        code = np.uint8(entries[t, s, p]) * np.uint8(ENTRY) | np.uint8(exits[t, s, p]) * np.uint8(EXIT)
        code |= np.uint8(short_entries[t, s, p]) * np.uint8(SHORT_ENTRY)
        code |= np.uint8(short_exits[t, s, p]) * np.uint8(SHORT_EXIT)
        codes[s] = code
        any_signal |= code
    return any_signal != 0


# A point's totals while the loop runs are local variables (tuples the compiler keeps in registers, issue 29:
# a row of the result array written every bar cost a quarter of a single-symbol grid): the trade totals
# (CLOSED_TRADES, WINNING_TRADES, GROSS_PROFIT, GROSS_LOSS, PNL_SQ) and the bar totals (MAX_DRAWDOWN,
# MAX_DRAWDOWN_BARS, RETURN_MEAN, RETURN_M2, DOWNSIDE_SQ, EXPOSURE_BARS, N_RETURNS), stored once per point.


@njit(cache=True)
def add_trade(totals, pnl):
    """The trade totals after one more closed trade with this PnL."""
    closed, winning, gross_profit, gross_loss, pnl_sq = totals
    closed += 1
    pnl_sq += pnl * pnl
    if pnl > 0:
        winning += 1
        gross_profit += pnl
    else:
        gross_loss -= pnl
    return closed, winning, gross_profit, gross_loss, pnl_sq


@njit(cache=True)
def add_bar(totals, t, equity, previous, peak, peak_bar, exposed, days):
    """The bar totals after bar `t`'s equity, and the new (peak, peak_bar); `days[t]` is bar t's time in days
    from the first bar, so a drawdown's calendar span is days[t] - days[peak_bar], gaps and weekends included."""
    max_drawdown, max_drawdown_bars, mean, m2, downside_sq, exposure_bars, n_returns, max_drawdown_days = totals
    if exposed:
        exposure_bars += 1
    if t > 0:  # Welford's online mean and variance of per-bar returns
        ret = equity / previous - 1.0
        count = n_returns + 1
        delta = ret - mean
        mean += delta / count
        m2 += delta * (ret - mean)
        if ret < 0:
            downside_sq += ret * ret
        n_returns = count
    span = days[t] - days[peak_bar]
    if equity >= peak:
        if t - peak_bar > 1:  # a drawdown just ended: its duration counts the recovery bar
            max_drawdown_bars = max(max_drawdown_bars, t - peak_bar)
            max_drawdown_days = max(max_drawdown_days, span)
        peak, peak_bar = equity, t
    else:
        max_drawdown = max(max_drawdown, 1.0 - equity / peak)
        max_drawdown_bars = max(max_drawdown_bars, t - peak_bar)
        max_drawdown_days = max(max_drawdown_days, span)
    totals = (max_drawdown, max_drawdown_bars, mean, m2, downside_sq, exposure_bars, n_returns, max_drawdown_days)
    return totals, peak, peak_bar


NO_TRADES = (0.0, 0.0, 0.0, 0.0, 0.0)  # add_trade's totals before the first trade
NO_BARS = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # add_bar's totals before the first bar


@njit(cache=True)
def store_totals(row, trade_totals, bar_totals, skipped, final_equity):
    """Write a point's totals into its accumulator row (RAW_FIELDS), once, when its loop ends."""
    row[CLOSED_TRADES], row[WINNING_TRADES], row[GROSS_PROFIT], row[GROSS_LOSS], row[PNL_SQ] = trade_totals
    (
        row[MAX_DRAWDOWN],
        row[MAX_DRAWDOWN_BARS],
        row[RETURN_MEAN],
        row[RETURN_M2],
        row[DOWNSIDE_SQ],
        row[EXPOSURE_BARS],
        row[N_RETURNS],
        row[MAX_DRAWDOWN_DAYS],
    ) = bar_totals
    row[SKIPPED_ENTRIES] = skipped
    row[FINAL_EQUITY] = final_equity


@njit(cache=True, parallel=True)
def simulate(  # noqa: C901 - one hot loop; numba compiles it as a unit
    open_,
    close,
    days,
    entries,
    exits,
    short_entries,
    short_exits,
    series,
    fast_of,
    slow_of,
    init_cash,
    fees,
    slippage,
    fraction,
    direction,
    granularity,
    minimum,
    record,
    equity_out,
    trades_out,
):
    """Simulate every point; return (accumulators (P, len(RAW_FIELDS)), trades recorded per point).

    Entries are sized in lots of `granularity` (NaN: any fraction) and skipped below `minimum` (NaN:
    none); an entry signal that fills nothing counts in SKIPPED_ENTRIES.

    With `fast_of` and `slow_of` non-empty (one index per point), point p's signals are where
    series[fast_of[p]] crosses series[slow_of[p]] (entries and short exits up, exits and short entries
    down; `series` is (windows, bars, symbols)) and the four signal arrays are not read; otherwise they
    are. Recording (`record=True`) is for one point at a time: all points would share `trades_out`.
    """
    n_bars, n_symbols = close.shape
    crossover = fast_of.shape[0] > 0
    n_points = fast_of.shape[0] if crossover else entries.shape[2]
    raw = np.zeros((n_points, len(RAW_FIELDS)))
    n_recorded = np.zeros(n_points, dtype=np.int64)
    cash0 = init_cash / n_symbols
    for p in prange(n_points):
        fast = series[fast_of[p] if crossover else 0]
        slow = series[slow_of[p] if crossover else 0]
        cash = np.full(n_symbols, cash0)
        position = np.zeros(n_symbols)
        debt = np.zeros(n_symbols)
        free_cash = np.full(n_symbols, cash0)
        cash_before = np.zeros(n_symbols)
        entry_bar = np.zeros(n_symbols, dtype=np.int64)
        entry_price = np.zeros(n_symbols)
        entry_fees = np.zeros(n_symbols)
        peak = init_cash
        peak_bar = 0
        previous = init_cash
        codes = np.zeros(n_symbols, dtype=np.uint8)  # bar t - 1's signals, symbol by symbol
        trade_totals, bar_totals, skipped = NO_TRADES, NO_BARS, 0.0
        for t in range(n_bars):
            if t == 0:
                signalled = False
            elif crossover and n_symbols == 1:
                signalled = crossing_code_one(fast, slow, t - 1, codes)
            elif crossover:
                signalled = crossing_codes(fast, slow, t - 1, codes)
            else:
                signalled = array_codes(entries, exits, short_entries, short_exits, t - 1, p, codes)
            for s in range(n_symbols if signalled else 0):
                code = codes[s]
                if code == 0:
                    continue  # no signal for this symbol: no order
                go_long, go_short, leave_long, leave_short = decide(
                    code & ENTRY != 0, code & EXIT != 0, code & SHORT_ENTRY != 0, code & SHORT_EXIT != 0, direction
                )
                held = position[s]
                closing = (held > 0 and leave_long) or (held < 0 and leave_short)
                if not closing and not (held == 0 and (go_long or go_short)):
                    continue  # no order either: the account stays as it is
                state = orders.AccountState(cash[s], held, debt[s], free_cash[s])
                price = open_[t, s]
                if closing:
                    state, result = _close(state, price, fees, slippage, granularity)
                    if result.status == orders.FILLED:
                        closed = held
                        share_fees = entry_fees[s]
                        pnl = state.cash - cash_before[s]
                        if state.position != 0:  # a short covered in part (the cash ran short): a trade of that part
                            closed, share_fees, pnl = covered_part(held, entry_price[s], entry_fees[s], result)
                            cash_before[s] += pnl  # the rest stays open; its P&L is what the whole makes beyond this
                            entry_fees[s] -= share_fees
                        trade_totals = add_trade(trade_totals, pnl)
                        if record:
                            k = n_recorded[p]
                            trades_out[k, 0] = s
                            trades_out[k, 1] = entry_bar[s]
                            trades_out[k, 2] = entry_price[s]
                            trades_out[k, 3] = t
                            trades_out[k, 4] = result.price
                            trades_out[k, 5] = closed
                            trades_out[k, 6] = pnl
                            trades_out[k, 7] = share_fees + result.fees
                            n_recorded[p] = k + 1
                if state.position == 0 and (go_long or go_short):
                    before = state.cash
                    state, result = _open(state, price, go_long, fees, slippage, granularity, fraction, np.inf, minimum)
                    if result.status == orders.FILLED:
                        cash_before[s] = before
                        entry_bar[s] = t
                        entry_price[s] = result.price
                        entry_fees[s] = result.fees
                    else:  # a signal the account could not act on: less than one lot, below the minimum
                        skipped += 1
                cash[s] = state.cash
                position[s] = state.position
                debt[s] = state.debt
                free_cash[s] = state.free_cash
            equity = 0.0
            exposed = False
            for s in range(n_symbols):
                equity += cash[s] + position[s] * close[t, s]
                if position[s] != 0:
                    exposed = True
            if record:
                equity_out[t, p] = equity
            bar_totals, peak, peak_bar = add_bar(bar_totals, t, equity, previous, peak, peak_bar, exposed, days)
            previous = equity
        store_totals(raw[p], trade_totals, bar_totals, skipped, previous)
        if record:
            for s in range(n_symbols):
                if position[s] != 0:
                    k = n_recorded[p]
                    trades_out[k, 0] = s
                    trades_out[k, 1] = entry_bar[s]
                    trades_out[k, 2] = entry_price[s]
                    trades_out[k, 3] = -1
                    trades_out[k, 4] = close[n_bars - 1, s]
                    trades_out[k, 5] = position[s]
                    trades_out[k, 6] = cash[s] + position[s] * close[n_bars - 1, s] - cash_before[s]
                    trades_out[k, 7] = entry_fees[s]
                    n_recorded[p] = k + 1
    return raw, n_recorded


simulate_serial = serial_twin(simulate, "simulate_serial")  # one point: prange over it only wakes threads
