"""Worker pools die with their parent (DC-44): kill -9 of the parent of `backtest sweep --workers 2` or
`backtest optimize --workers 2` at 8 points (its first worker appearing, then spread over a whole run:
workers importing, computing, sending results) leaves no process of its session 5 s later."""

from __future__ import annotations

import pytest
from pipelines.faults.workers import OPTIMIZE, SWEEP, parent_kills

pytestmark = pytest.mark.req("DC-44")


def judged(kills: list[dict]) -> None:
    during = [k for k in kills if not k["finished_first"] and k["children_at_kill"]]
    assert len(during) >= 7, kills  # killed while its workers ran, at 7 points at least
    assert [k["orphans"] for k in kills] == [0] * len(kills), kills  # none left after ORPHAN_SECONDS


def test_dc_44_sweep_workers_are_gone_within_5_s_of_a_killed_parent(tmp_path):
    judged(parent_kills([*SWEEP, "--workers", "2", "--json"], tmp_path))


def test_dc_44_optimize_workers_are_gone_within_5_s_of_a_killed_parent(tmp_path):
    judged(parent_kills([*OPTIMIZE, "--trials", "60", "--workers", "2", "--no-gate"], tmp_path))
