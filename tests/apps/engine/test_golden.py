"""Every metric, trade and equity value of a few grids and backtests is bit-identical to main before issue 29."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apps.engine.golden import CASES, compute

pytestmark = pytest.mark.req("DC-40")

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden_metrics.json").read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_dc_40_metrics_are_bit_identical_to_before_the_kernel_kept_totals_in_locals(name):
    assert compute(CASES[name]) == GOLDEN[name]
