"""The dashboard's new-run form carries numbers too: NaN and infinities are refused there as in the API."""

from __future__ import annotations

import pytest

from tests.apps.dashboard.test_sessions import log_in
from tests.apps.service.conftest import backtester


@pytest.mark.req("DC-48")
@pytest.mark.parametrize(("kind", "fast"), [("backtest", "nan"), ("backtest", "inf"), ("sweep", "5,nan")])
def test_dc_48_the_new_run_form_refuses_nan_and_infinities(tmp_path, kind, fast):
    with backtester(tmp_path) as ui:
        _, csrf = log_in(ui)
        form = {"csrf": csrf, "kind": kind, "strategy": "sma_cross", "data": "sample:GOOG", "sma_cross.fast": fast}
        answer = ui.post("/ui/new", data=form | {"sma_cross.slow": "30"}, follow_redirects=False)
        assert answer.status_code == 422 and "not a finite number" in answer.text, answer.text[-2000:]
