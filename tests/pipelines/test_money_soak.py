"""`make soak` in small: one round of the money path's state machine through the soak's own entry point."""

from __future__ import annotations

import pytest
from pipelines.soak import money


@pytest.mark.req("DC-28")
def test_dc_28_the_soak_runs_the_machine_and_reports_no_violation(capsys):
    assert money.main(["--count", "1", "--seconds", "120", "--steps", "4"]) == 0
    out = capsys.readouterr().out
    assert "0 invariant violation(s)" in out and "money soak: " in out and "rules: " in out
