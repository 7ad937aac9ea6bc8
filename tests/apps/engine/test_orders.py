"""Our order core equals vectorbt's, the reference it was written from (vectorbt is a test dependency only).

Order by order: `orders.buy`/`orders.sell` against `vectorbt.portfolio.nb.buy_nb`/`sell_nb` called with
the engine's fixed arguments (no fixed fee, no minimum or maximum size, cash not locked, partial fills
allowed), over random order sequences and random accounts. Whole backtests: the kernel against
`vectorbt.Portfolio.from_signals` fed the same signals a bar later (fills at the next open).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tradeops.data import Bars, load_bars
from tradeops.engine import ExecutionSettings, kernel, orders
from tradeops.engine.backtest import _simulate
from tradeops.strategies import get_strategy
from tradeops.strategies.base import Signals, table_from_points, validate_params

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import vectorbt as vbt
    from vectorbt.portfolio import nb as vbt_nb
    from vectorbt.portfolio.enums import Direction, ExecuteOrderState, OrderStatus, OrderStatusInfo
    from vectorbt.utils import math_ as vbt_math

STATUS = {orders.FILLED: OrderStatus.Filled, orders.IGNORED: OrderStatus.Ignored, orders.REJECTED: OrderStatus.Rejected}
REASON = {
    orders.NO_REASON: -1,
    orders.SIZE_ZERO: OrderStatusInfo.SizeZero,
    orders.NO_CASH_TO_SHORT: OrderStatusInfo.NoCashShort,
    orders.NO_CASH_TO_BUY: OrderStatusInfo.NoCashLong,
    orders.NO_POSITION: OrderStatusInfo.NoOpenPosition,
    orders.FEES_EXCEED_CASH: OrderStatusInfo.CantCoverFees,
    orders.NEGATIVE_SIZE: OrderStatusInfo.MinSizeNotReached,  # a size below the minimum of 0
    orders.BELOW_MINIMUM: OrderStatusInfo.MinSizeNotReached,  # a size below the market's minimum amount
}
RTOL = 1e-12

amounts = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False)
tiny = st.sampled_from([0.0, -0.0, 1e-13, -1e-13, 5e-12, 1e-300, 1e-9])


@pytest.mark.req("DC-18")
@settings(max_examples=500, deadline=None)
@given(a=st.one_of(amounts, tiny, st.sampled_from([math.inf, -math.inf, math.nan])), b=st.one_of(amounts, tiny))
def test_dc_18_tolerant_comparison_and_sum_equal_vectorbts(a, b):
    for left, right in ((a, b), (a, -a), (a, a * (1 + 1e-10)), (a, -a * (1 + 1e-10))):
        assert orders.same_amount(left, right) == vbt_math.is_close_nb(left, right)
        ours, theirs = orders.add_amounts(left, right), vbt_math.add_nb(left, right)
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


@pytest.mark.req("DC-18")
def test_dc_18_the_paper_broker_keeps_recording_the_same_reason_words():
    """A ledger's `reason` for an unfilled order is the word vectorbt's status named, as before our own core."""
    for code, word in enumerate(orders.REASON_WORDS):
        assert word == OrderStatusInfo._fields[REASON[code]].lower()


sizes = st.one_of(
    st.just(math.inf),
    st.floats(min_value=1e-6, max_value=1e6),
    st.integers(min_value=1, max_value=10_000).map(float),
    st.sampled_from([0.0, 0.4, 0.5, 1.0, 1e-13, 2.5]),
    st.just("position"),  # the whole position: a close
)
costs = st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=0.1, exclude_max=True))
order_lists = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        sizes,
        st.floats(min_value=0.01, max_value=1e5),  # price
        costs,  # fees
        costs,  # slippage
        st.sampled_from([math.nan, 1.0, 0.01, 1e-8, 5.0]),  # granularity
        st.one_of(st.just(math.nan), st.floats(min_value=1e-3, max_value=1.0)),  # percent
        st.sampled_from(["long_only", "both", "short_only"]),  # vectorbt's direction for this order
    ),
    min_size=1,
    max_size=25,
)


VBT_DIRECTION = {"long_only": Direction.LongOnly, "both": Direction.Both, "short_only": Direction.ShortOnly}


def ours(state, side, size, price, fees, slippage, granularity, percent, direction):
    """One order through our core: (account, outcome), or the type of error it raised."""
    account = orders.AccountState(*state)
    size = abs(state[1]) if size == "position" else size
    try:
        if side == "buy":  # vectorbt's buy is the same long only and both ways; short only is not ours
            return orders.buy(account, size, price, fees, slippage, granularity, percent)
        reduce_only = direction == "long_only"
        return orders.sell(account, size, price, fees, slippage, granularity, percent, reduce_only)
    except ValueError as error:
        return type(error)


def vectorbts(state, side, size, price, fees, slippage, granularity, percent, direction):
    """The same order through vectorbt's core with the engine's fixed arguments."""
    account = ExecuteOrderState(*state)
    size = abs(state[1]) if size == "position" else size
    if side == "buy" and direction == "short_only":
        direction = "both"
    execute = vbt_nb.buy_nb if side == "buy" else vbt_nb.sell_nb
    fixed_fees, min_size, max_size, lock_cash, allow_partial = 0.0, 0.0, np.inf, False, True
    try:
        return execute(
            account, size, price, VBT_DIRECTION[direction], fees, fixed_fees, slippage, min_size, max_size,
            granularity, lock_cash, allow_partial, percent,
        )  # fmt: skip
    except ValueError as error:
        return type(error)


def assert_equal(done, reference) -> str:
    """Assert both cores did the same; return what they did (hypothesis counts the outcomes it reached)."""
    if not isinstance(reference, tuple):
        assert done is reference  # both refused with the same error (an unbounded size)
        return "raised"
    (state, outcome), (their_state, result) = done, reference
    assert STATUS[outcome.status] == result.status
    assert REASON[outcome.reason] == result.status_info
    np.testing.assert_allclose(
        [*state, outcome.size, outcome.price, outcome.fees],
        [*their_state, result.size, result.price, result.fees],
        rtol=RTOL,
        atol=0,
    )
    return OrderStatus._fields[result.status] + (
        "" if result.status_info < 0 else f" {OrderStatusInfo._fields[result.status_info]}"
    )


@pytest.mark.req("DC-18")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cash=st.one_of(st.floats(min_value=1e-3, max_value=1e9), st.sampled_from([0.0, 1e-13])), sequence=order_lists)
def test_dc_18_buy_and_sell_equal_vectorbts_on_random_order_sequences(cash, sequence):
    mine = theirs = (cash, 0.0, 0.0, cash)
    for order in sequence:
        done, reference = ours(mine, *order), vectorbts(theirs, *order)
        event(assert_equal(done, reference))
        if not isinstance(done, tuple):
            return
        mine, theirs = tuple(done[0]), tuple(reference[0])  # each core carries its own account on


@st.composite
def accounts(draw):
    """Any account: long, flat or short with the debt of its average sale price, and any free cash."""
    cash = draw(st.one_of(st.floats(min_value=1e-3, max_value=1e8), tiny.map(abs)))
    position = draw(st.one_of(st.just(0.0), st.floats(min_value=-1e5, max_value=1e5), tiny))
    debt = abs(position) * draw(st.floats(min_value=0.01, max_value=1e4)) if position < 0 else 0.0
    free_cash = draw(st.one_of(st.just(cash - 2 * debt), st.floats(min_value=-1e8, max_value=1e8), tiny))
    return cash, position, debt, free_cash


@pytest.mark.req("DC-18")
@settings(max_examples=1000, deadline=None)
@given(state=accounts(), order=order_lists.map(lambda orders_: orders_[0]))
def test_dc_18_one_order_on_any_account_long_short_or_in_debt_equals_vectorbts(state, order):
    event(assert_equal(ours(state, *order), vectorbts(state, *order)))


@pytest.mark.req("DC-18")
def test_dc_18_shorts_and_covers_with_debt_equal_vectorbts_by_hand():
    """A short, a partial cover, a cover past zero into a long: the debt and free cash at each step."""
    state = (10_000.0, 0.0, 0.0, 10_000.0)
    steps = [
        ("sell", math.inf, 100.0, 0.001, 0.0005, 1.0, 0.5, "both"),  # short half of what the cash carries
        ("buy", 20.0, 90.0, 0.001, 0.0005, 1.0, math.nan, "both"),  # cover 20 units lower
        ("buy", math.inf, 110.0, 0.001, 0.0005, 1.0, math.nan, "both"),  # cover the rest and go long
        ("sell", "position", 120.0, 0.001, 0.0005, math.nan, math.nan, "long_only"),  # close the long
    ]
    debts = []
    for step in steps:
        done = ours(state, *step)
        assert_equal(done, vectorbts(state, *step))
        state = tuple(done[0])
        debts.append(state[2])
    assert debts[0] > debts[1] > 0 and debts[2] == debts[3] == 0.0 and state[1] == 0.0


def shifted(a: np.ndarray) -> np.ndarray:
    """Signals on bar t's close act at bar t + 1's open: vectorbt gets them one bar later."""
    out = np.zeros_like(a)
    out[1:] = a[:-1]
    return out


def reference_portfolio(bars: Bars, signals: Signals, settings: ExecutionSettings):
    """vectorbt's from_signals on the same signals, one account per symbol with an equal share of the cash."""
    entries, exits, short_entries, short_exits = (shifted(a[:, :, 0]) for a in signals.as_tuple())
    none = np.zeros_like(entries)
    if settings.direction == "long_only":
        short_entries = short_exits = none
    elif settings.direction == "short_only":
        entries = exits = none
    fraction = settings.sizing == "fixed_fraction"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vbt.Portfolio.from_signals(
            pd.DataFrame(bars.close, index=bars.index),
            entries=entries,
            exits=exits,
            short_entries=short_entries,
            short_exits=short_exits,
            price=bars.open,
            init_cash=float(settings.cash) / bars.n_symbols,
            fees=float(settings.commission),
            slippage=float(settings.slippage),
            size=float(settings.fraction) if fraction else np.inf,
            size_type="percent" if fraction else "amount",
            size_granularity=np.nan if settings.lot_size == 0 else 1.0,
            min_size=0.0,
        )


def assert_backtest_equals_vectorbts(bars: Bars, signals: Signals, settings: ExecutionSettings) -> int:
    """Equity at every bar and every trade (closed and open) equal vectorbt's; return the trades compared."""
    raw, counts, equity, trades = _simulate(signals, bars, settings, record=True)
    portfolio = reference_portfolio(bars, signals, settings)
    np.testing.assert_allclose(equity[:, 0], portfolio.value().sum(axis=1).to_numpy(), rtol=RTOL)
    assert raw[0, kernel.FINAL_EQUITY] == pytest.approx(portfolio.final_value().sum(), rel=RTOL)

    ours = pd.DataFrame(trades[: counts[0]], columns=kernel.TRADE_FIELDS).sort_values(["symbol", "entry_bar"])
    orders = portfolio.orders  # vectorbt books a cover the cash cannot buy one lot of as an order of size 0,
    filled = orders.values["size"] > 0  # which its own trades then refuse: no order was filled, so none is counted
    theirs = pd.DataFrame(vbt.ExitTrades.from_orders(orders.apply_mask(filled)).values)
    theirs = theirs.sort_values(["col", "entry_idx"])
    assert len(ours) == len(theirs)
    assert ours["symbol"].tolist() == theirs["col"].tolist()
    assert ours["entry_bar"].tolist() == theirs["entry_idx"].tolist()
    still_open = theirs["status"].to_numpy() == 0
    exit_bar = np.where(still_open, -1, theirs["exit_idx"].to_numpy())
    assert ours["exit_bar"].tolist() == exit_bar.tolist()
    direction = np.where(theirs["direction"].to_numpy() == 0, 1.0, -1.0)  # long 0, short 1
    for mine, reference in [
        (ours["size"], theirs["size"] * direction),
        (ours["entry_price"], theirs["entry_price"]),
        (ours["exit_price"], theirs["exit_price"]),
        (ours["fees"], theirs["entry_fees"] + theirs["exit_fees"]),
    ]:
        np.testing.assert_allclose(mine.to_numpy(), reference.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(ours["pnl"].to_numpy(), theirs["pnl"].to_numpy(), rtol=1e-9, atol=settings.cash * RTOL)
    return len(ours)


SETTINGS = {
    "plain": {},
    "costs": {"commission": 0.002, "slippage": 0.001},
    "fraction": {"sizing": "fixed_fraction", "fraction": 0.5, "commission": 0.001},
    "fractional_units": {"fractional_units": True, "commission": 0.001, "slippage": 0.0005},
}
# vectorbt's from_signals reverses a position in one order, and refuses a percent size for it.
CASES = [
    (direction, name)
    for direction in ("long_only", "short_only", "long_short")
    for name in SETTINGS
    if not (direction == "long_short" and name == "fraction")
]


@pytest.mark.req("DC-18")
@pytest.mark.parametrize("sample", ["GOOG", "EURUSD"])
@pytest.mark.parametrize(("direction", "execution"), CASES, ids=[f"{d}-{e}" for d, e in CASES])
def test_dc_18_backtests_equal_vectorbts_from_signals(sample, direction, execution, goog, eurusd):
    bars = goog if sample == "GOOG" else eurusd
    settings = ExecutionSettings(direction=direction, **SETTINGS[execution])
    strategy = get_strategy("sma_cross")
    params = validate_params(strategy, {"fast": 10, "slow": 30})
    assert assert_backtest_equals_vectorbts(bars, strategy.signals(bars, table_from_points([params])), settings) > 20


@pytest.mark.req("DC-18")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    case=st.sampled_from(CASES),
    rate=st.sampled_from([0.02, 0.1, 0.4]),
)
# Found by the random examples: a short whose cover costs more than its account's cash is covered in whole lots
# as far as the cash goes, booked as a trade of that part (19308), and vectorbt's size-0 order is no trade (308).
@example(seed=308, case=("short_only", "plain"), rate=0.02)
@example(seed=19308, case=("short_only", "plain"), rate=0.02)
def test_dc_18_random_signals_on_many_symbols_equal_vectorbts_from_signals(seed, case, rate):
    """Dense random signals (same-bar entries and exits included) on three symbols, one account each."""
    direction, execution = case
    bars = load_bars(f"sample:synthetic?symbols=3&bars=400&seed={seed % 1000}")
    rng = np.random.default_rng(seed)
    entries, exits, short_entries, short_exits = (rng.random((400, 3, 1)) < rate for _ in range(4))
    short_entries &= ~entries  # both entries at once: vectorbt ignores both, our rule goes long
    signals = Signals(entries, exits, short_entries, short_exits)
    assert_backtest_equals_vectorbts(bars, signals, ExecutionSettings(direction=direction, **SETTINGS[execution]))


@pytest.mark.req("DC-18")
def test_dc_18_gate_metrics_equal_vectorbts_on_goog(goog):
    """Total return and max drawdown of a whole backtest equal vectorbt's portfolio statistics."""
    from tradeops.engine import run_backtest

    strategy = get_strategy("sma_cross")
    params = validate_params(strategy, {"fast": 10, "slow": 30})
    settings = ExecutionSettings(commission=0.001, slippage=0.0005)
    result = run_backtest(strategy, params, goog, settings)
    portfolio = reference_portfolio(goog, strategy.signals(goog, table_from_points([params])), settings)
    assert result.metrics["total_return_pct"] == pytest.approx(portfolio.total_return().iloc[0] * 100, rel=1e-12)
    assert result.metrics["max_drawdown_pct"] == pytest.approx(-portfolio.max_drawdown().iloc[0] * 100, rel=1e-12)


INTERPRETED = """
import json, sys
import numpy as np
from tradeops.data import load_bars
from tradeops.engine import ExecutionSettings
from tradeops.engine.backtest import _simulate
from tradeops.strategies import get_strategy
from tradeops.strategies.base import table_from_points, validate_params
bars = load_bars("sample:GOOG").head(500)
strategy = get_strategy("sma_cross")
signals = strategy.signals(bars, table_from_points([validate_params(strategy, {"fast": 5, "slow": 20})]))
settings = ExecutionSettings(**json.loads(sys.argv[1]))
raw, counts, equity, trades = _simulate(signals, bars, settings, record=True)
print(json.dumps([raw.tolist(), equity[:, 0].tolist(), trades[: counts[0]].tolist()]))
"""


STALE = "the cached kernel predates orders.py: delete apps/tradeops/engine/__pycache__/kernel.*.nbi and rerun"


@pytest.mark.req("DC-18")
def test_dc_18_the_cached_kernel_runs_the_current_order_core(goog):
    """numba's disk cache keys the kernel on kernel.py's content alone: after an edit of orders.py it would replay
    the old order core. The kernel as this process loads it equals the whole engine run as plain Python."""
    import json
    import os
    import subprocess
    import sys

    execution = {"direction": "long_short", "commission": 0.001, "slippage": 0.0005, "fractional_units": True}
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run(
        [sys.executable, "-c", INTERPRETED, json.dumps(execution)], capture_output=True, text=True, env=env, check=True
    )
    interpreted = json.loads(done.stdout.strip().splitlines()[-1])
    bars = goog.head(500)
    strategy = get_strategy("sma_cross")
    signals = strategy.signals(bars, table_from_points([validate_params(strategy, {"fast": 5, "slow": 20})]))
    raw, counts, equity, trades = _simulate(signals, bars, ExecutionSettings(**execution), record=True)
    compiled = [raw.tolist(), equity[:, 0].tolist(), trades[: counts[0]].tolist()]
    assert len(compiled[2]) > 10
    for mine, plain in zip(compiled, interpreted, strict=True):
        np.testing.assert_allclose(mine, plain, rtol=RTOL, err_msg=STALE)
