"""DC-28: the money path's invariants hold at every step of a stateful run against the venue simulator.

The machine is tests/apps/trader/money_machine.py (bars, halts, resumes, reduce-only, flatten, restarts
including a kill mid-send, venue faults and edited history, interleaved); `make soak` runs it longer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from tests.apps.trader.money_machine import TALLY, MoneyMachine, run_uninterrupted

pytestmark = pytest.mark.req("DC-28")
UNTIL = 90  # bars of the restart comparison: sma_cross(5, 20) trades several times in them


def test_dc_28_the_money_path_invariants_hold_at_every_step():
    before, sent, filled = TALLY.steps, TALLY.venue_orders, TALLY.venue_fills
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,  # the same examples every run: a failure here is a finding, never a flake
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    sent, filled = TALLY.venue_orders - sent, TALLY.venue_fills - filled
    print(f"money machine: {TALLY.steps - before} steps, {sent} venue orders ({filled} filled), {TALLY.rules}")
    assert filled >= 5  # the invariants were checked on a session that traded, not on an idle one


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return run_uninterrupted(tmp_path_factory.mktemp("uninterrupted"), UNTIL)


@settings(max_examples=3, deadline=None, derandomize=True, database=None)
@given(restarts=st.frozensets(st.integers(1, UNTIL - 1), min_size=1, max_size=5))
def test_dc_28_restarts_at_any_bars_converge_to_the_uninterrupted_ledger(uninterrupted, restarts, tmp_path_factory):
    restarted = run_uninterrupted(tmp_path_factory.mktemp("restarted"), UNTIL, restarts)
    filled = [o for o in uninterrupted["orders"] if o[4] == "filled"]
    assert len(filled) >= 4 and uninterrupted["trades"]  # the comparison covers real trading
    assert restarted == uninterrupted
