"""The backtester API pins `dataset:NAME` when a run is submitted, and the run records that version (DC-31)."""

from __future__ import annotations

import pytest

from tests.apps.service.conftest import AUTH, wait_for
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.imports import bars_to_frames

pytestmark = pytest.mark.req("DC-31")
PARAMS = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}}


def test_dc_31_api_runs_read_and_record_the_version_latest_when_they_were_submitted(api):
    store = DatasetStore(api.app.state.objects)
    goog = load_bars("sample:GOOG")
    submitted, _ = store.write("goog-1d", bars_to_frames(goog.head(1500)), timeframe="1d", source="test")
    data = {"data": "dataset:goog-1d"}
    accepted = [
        api.post("/v1/backtests", json=PARAMS | data, headers=AUTH),
        api.post("/v1/sweeps", json={"strategy": "sma_cross", "grid": {"fast": [5, 10], "slow": [30]}} | data,
                 headers=AUTH),
        api.post("/v1/gate", json=PARAMS | data, headers=AUTH),
    ]  # fmt: skip
    newer, _ = store.write("goog-1d", bars_to_frames(goog), timeframe="1d", source="test")  # while they queue
    runs = [wait_for(api, response.json()["url"]) for response in accepted]
    assert all(run["status"] == "done" for run in runs), [run["error"] for run in runs]
    assert {run["data"] for run in runs} == {submitted.ref} != {newer.ref}
    backtest, sweep, gate = (run["result"] for run in runs)
    for recorded in (backtest["data"], sweep["data"], gate["data"], gate["result"]["data"]):
        assert recorded["ref"] == submitted.ref and recorded["sha256"] == submitted.sha256
        assert recorded["bars"] == 1500


def test_dc_31_an_unknown_dataset_or_version_is_refused_at_submission(api):
    DatasetStore(api.app.state.objects).write(
        "goog-1d", bars_to_frames(load_bars("sample:GOOG").head(300)), timeframe="1d", source="test"
    )
    for reference, message in (
        ("dataset:nothing", "dataset:nothing: no such dataset (datasets: goog-1d)"),
        ("dataset:goog-1d@0123456789abcdef", "no such version"),
    ):
        response = api.post("/v1/backtests", json=PARAMS | {"data": reference}, headers=AUTH)
        assert response.status_code == 422 and message in response.text
    assert api.get("/v1/backtests").json()["total"] == 0  # nothing was queued
