"""The backtester API end to end: real worker processes, stores and reports."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.apps.service.conftest import AUTH, wait_for

BACKTEST = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}
SLOW_SWEEP = {
    "strategy": "sma_cross",
    "data": "sample:synthetic?symbols=80&bars=3000",
    "grid": {"fast": list(range(2, 60)), "slow": list(range(61, 200, 2))},
}


@pytest.mark.req("BT-1", "BT-3")
def test_bt_1_bt_3_a_backtest_runs_end_to_end_with_the_cli_result_and_a_report(api):
    accepted = api.post("/v1/backtests", json=BACKTEST, headers=AUTH)
    assert accepted.status_code == 202 and accepted.json()["status"] == "queued"
    run = wait_for(api, accepted.json()["url"])
    assert run["status"] == "done", run["error"]
    result = run["result"]
    assert {"strategy", "params", "data", "initial_cash", "final_equity", "metrics", "trades"} <= set(result)
    assert result["metrics"]["trades"] == 46 and run["metrics"] == result["metrics"]
    assert run["data_fingerprint"] == result["data"]["fingerprint"] and run["engine_version"].startswith("tradeops")
    assert run["duration_seconds"] > 0 and run["verdict"] is None
    report = api.get(run["report_url"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    # equity, underwater, price, return by duration, MAE/MFE, yearly, monthly, rolling, distribution
    assert report.text.count('<div class="chart" id="chart-') == 9


@pytest.mark.req("BT-1", "BT-4")
def test_bt_1_bt_4_thresholds_on_a_backtest_add_the_gate_checks(api):
    body = BACKTEST | {"thresholds": {"profitability": {"min_sharpe": 5}}}
    run = wait_for(api, api.post("/v1/backtests", json=body, headers=AUTH).json()["url"])
    assert run["verdict"]["passed"] is False and run["verdict"]["exit_code"] == 1
    assert any(c["name"] == "min_sharpe" and not c["passed"] for c in run["verdict"]["checks"])


@pytest.mark.req("BT-1", "BT-3")
def test_bt_1_bt_3_a_sweep_and_a_gate_go_through_the_same_lifecycle(api):
    sweep = api.post(
        "/v1/sweeps",
        json={"strategy": "sma_cross", "grid": {"fast": [5, 10, 20], "slow": [30, 60]}, "top": 2},
        headers=AUTH,
    )
    gate = api.post("/v1/gate", json={"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}}, headers=AUTH)
    swept = wait_for(api, sweep.json()["url"])
    assert swept["status"] == "done" and swept["result"]["points"] == 6 and len(swept["result"]["best"]) == 2
    assert api.app.state.objects.get(f"runs/{swept['id']}/table.csv").decode().count("\n") == 7
    judged = wait_for(api, gate.json()["url"])
    assert judged["status"] == "done" and judged["verdict"]["passed"] and judged["verdict"]["exit_code"] == 0
    assert api.get(judged["report_url"]).status_code == 200
    assert api.get(f"/v1/sweeps/{swept['id']}/report").status_code == 404


@pytest.mark.req("BT-1", "BT-3")
def test_bt_1_bt_3_runs_are_listed_with_filters_and_paging(api):
    ids = [
        api.post("/v1/backtests", json=BACKTEST | {"params": {"fast": f, "slow": 40}}, headers=AUTH).json()["id"]
        for f in (5, 10, 15)
    ]
    api.post("/v1/backtests", json={"strategy": "rsi_reversion"}, headers=AUTH)
    for run_id in ids:
        wait_for(api, f"/v1/backtests/{run_id}")
    page = api.get("/v1/backtests", params={"strategy": "sma_cross", "limit": 2}).json()
    assert page["total"] == 3 and [r["id"] for r in page["items"]] == ids[::-1][:2]
    assert api.get("/v1/backtests", params={"strategy": "sma_cross", "offset": 2}).json()["items"][0]["id"] == ids[0]
    assert api.get("/v1/backtests", params={"status": "done", "strategy": "sma_cross"}).json()["total"] == 3
    assert api.get("/v1/backtests", params={"since": "2999-01-01T00:00:00Z"}).json()["total"] == 0
    assert api.get("/v1/backtests", params={"status": "weird"}).status_code == 422
    assert api.get("/v1/sweeps").json()["total"] == 0
    assert api.get("/v1/backtests", params={"offset": 10**19}).status_code == 422  # found by the fuzzer: was a 500


@pytest.mark.req("BT-1")
def test_bt_1_strategies_publish_their_parameter_schemas(api):
    strategies = {s["name"]: s for s in api.get("/v1/strategies").json()}
    assert set(strategies) == {"sma_cross", "rsi_reversion", "donchian_breakout", "ml_classifier"}
    assert strategies["sma_cross"]["params_schema"]["properties"]["fast"]["minimum"] == 2


@pytest.mark.req("BT-1")
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_bt_1_mutations_without_the_right_token_get_401_and_change_nothing(api, headers):
    response = api.post("/v1/backtests", json=BACKTEST, headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert api.get("/v1/backtests").json()["total"] == 0
    assert api.delete("/v1/backtests/abc", headers=headers).status_code == 401


@pytest.mark.req("BT-1")
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"strategy": "magic"}, "body", "unknown strategy 'magic'"),
        (BACKTEST | {"params": {"fast": 30, "slow": 20}}, "body", "params: invalid parameters for sma_cross"),
        (BACKTEST | {"execution": {"cash": -1}}, "cash", "greater than 0"),
        (BACKTEST | {"colour": "red"}, "colour", "Extra inputs are not permitted"),
        (BACKTEST | {"data": "../../etc/passwd"}, "data", "inside the market data folder"),
        (BACKTEST | {"data": "/etc/passwd"}, "data", "inside the market data folder"),
        ({"strategy": "sma_cross", "grid": {}}, "grid", "at least 1 item"),
    ],
)
def test_bt_1_invalid_payloads_get_422_naming_the_field(api, body, field, message):
    path = "/v1/sweeps" if "grid" in body else "/v1/backtests"
    response = api.post(path, json=body, headers=AUTH)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in [str(p) for p in d["loc"]] and message in d["msg"] for d in detail), detail
    assert api.get("/v1/backtests").json()["total"] == 0


@pytest.mark.req("BT-1")
@pytest.mark.req("DC-16")
def test_bt_1_dc_16_a_full_queue_answers_429_with_retry_after_and_writes_no_row(make_api):
    with make_api(queue_limit=1) as api:
        api.app.state.runner.stop()  # nothing drains the queue during this test
        assert api.post("/v1/backtests", json=BACKTEST, headers=AUTH).status_code == 202
        refused = api.post("/v1/backtests", json=BACKTEST, headers=AUTH)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
        for _ in range(20):  # rejected traffic leaves nothing behind: only the accepted run is stored
            assert api.post("/v1/backtests", json=BACKTEST, headers=AUTH).status_code == 429
        assert api.get("/v1/backtests").json()["total"] == 1


@pytest.mark.req("BT-1")
def test_bt_1_queued_and_running_jobs_can_be_cancelled(make_api):
    with make_api(workers=1) as api:
        running = api.post("/v1/sweeps", json=SLOW_SWEEP, headers=AUTH).json()
        queued = api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()
        wait_for(api, running["url"], states=("running",))
        assert api.delete(queued["url"], headers=AUTH).json()["status"] == "cancelled"
        cancelled = api.delete(running["url"], headers=AUTH).json()
        assert cancelled["status"] == "cancelled" and api.app.state.runner.depth == {"queued": 0, "running": 0}
        assert api.delete(running["url"], headers=AUTH).status_code == 409
        assert api.delete("/v1/sweeps/nope", headers=AUTH).status_code == 404


@pytest.mark.req("BT-1")
def test_bt_1_a_job_over_its_time_limit_is_killed_and_failed(make_api):
    with make_api(job_timeout_seconds=3.0) as api:
        run = wait_for(api, api.post("/v1/sweeps", json=SLOW_SWEEP, headers=AUTH).json()["url"])
        assert run["status"] == "failed" and run["error"] == "timed out after 3 s"
        api.app.state.runner.pool.timeout = 120.0  # the next job, given time to finish on any machine, is not affected
        after = wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])
        assert after["status"] == "done"


@pytest.mark.req("BT-1")
def test_bt_1_a_crashed_worker_fails_only_its_job(make_api):
    with make_api(workers=1) as api:
        run = api.post("/v1/sweeps", json=SLOW_SWEEP, headers=AUTH).json()
        wait_for(api, run["url"], states=("running",))
        deadline = time.monotonic() + 30
        while not api.app.state.runner.pool.busy() and time.monotonic() < deadline:
            time.sleep(0.01)
        (worker,) = api.app.state.runner.pool.busy().values()
        os.kill(worker.process.pid, signal.SIGKILL)
        crashed = wait_for(api, run["url"])
        assert crashed["status"] == "failed" and crashed["error"] == "worker crashed (exit code -9)"
        assert wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])["status"] == "done"


@pytest.mark.req("BT-1", "BT-3")
def test_bt_1_bt_3_results_and_queued_work_survive_a_restart(make_api):
    with make_api() as api:
        done = wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])
        api.app.state.runner.stop()
        pending = api.post("/v1/backtests", json=BACKTEST | {"params": {"fast": 5, "slow": 50}}, headers=AUTH).json()
    with make_api() as api:
        again = api.get(f"/v1/backtests/{done['id']}").json()
        assert again["status"] == "done" and again["result"] == done["result"]
        assert api.get(again["report_url"]).status_code == 200
        assert wait_for(api, pending["url"])["status"] == "done"


@pytest.mark.req("BT-1")
def test_bt_1_bad_data_fails_the_job_with_the_reason(api, tmp_path):
    market = tmp_path / "data" / "market"
    market.mkdir(parents=True)
    (market / "bad.csv").write_text(
        "date,open,high,low,close,volume\n2020-01-02,1,2,0.5,1.5,1\n2020-01-01,1,2,0.5,1.5,1\n"
    )
    run = wait_for(api, api.post("/v1/backtests", json=BACKTEST | {"data": "bad.csv"}, headers=AUTH).json()["url"])
    assert run["status"] == "failed" and "data is not sorted" in run["error"]
    assert api.get(f"/v1/backtests/{run['id']}/report").status_code == 404


@pytest.mark.req("BT-1", "OE-5")
def test_bt_1_oe_5_a_store_outage_fails_that_run_and_the_runner_keeps_serving(make_api, monkeypatch):
    with make_api() as api:
        objects = api.app.state.objects
        real_put = objects.put
        calls = []

        def flaky_put(key, data, content_type="application/octet-stream"):
            calls.append(key)
            if len(calls) == 1:
                raise OSError("object store unreachable")
            return real_put(key, data, content_type)

        monkeypatch.setattr(objects, "put", flaky_put)
        first = wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])
        assert first["status"] == "failed" and "results could not be stored: OSError" in first["error"]
        second = wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])
        assert second["status"] == "done"
        assert api.get("/readyz").json() == {"status": "ready"}
        api.app.state.runner.stop()
        ready = api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["failed"]["job_runner"].endswith("the job runner has stopped")


@pytest.mark.req("BT-1")
@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/backtests", BACKTEST | {"data": "x\u0000y"}, "String should match pattern"),
        ("/v1/backtests", BACKTEST | {"data": ""}, "at least 1 character"),
        ("/v1/sweeps", {"strategy": "sma_cross", "grid": {"speed": [1, 2]}}, "has no parameter(s) speed"),
    ],
)
def test_bt_1_hostile_or_misspelt_payloads_get_422_not_500(api, path, body, message):
    response = api.post(path, json=body, headers=AUTH)
    assert response.status_code == 422 and message in response.text


@pytest.mark.req("BT-1")
def test_bt_1_a_report_gone_from_the_store_is_a_404(api):
    run = wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])
    api.app.state.objects.delete(f"runs/{run['id']}/report.html")
    response = api.get(run["report_url"])
    assert response.status_code == 404 and "no longer in the object store" in response.text


@pytest.mark.req("DC-14")
def test_dc_14_backtests_sweeps_and_gates_read_datasets_from_the_services_own_object_store(api, tmp_path, monkeypatch):
    from tradeops.data import load_bars
    from tradeops.data.datasets import DatasetStore
    from tradeops.data.imports import bars_to_frames

    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "elsewhere"))  # the environment names another store
    manifest, _ = DatasetStore(api.app.state.objects).write(
        "goog-1d", bars_to_frames(load_bars("sample:GOOG")), timeframe="1d", source="test"
    )
    data = {"data": "dataset:goog-1d"}
    runs = [
        api.post("/v1/backtests", json=BACKTEST | data, headers=AUTH),
        api.post(
            "/v1/sweeps", json={"strategy": "sma_cross", "grid": {"fast": [5, 10], "slow": [30]}} | data, headers=AUTH
        ),
        api.post("/v1/gate", json={"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}} | data, headers=AUTH),
    ]
    for accepted in runs:
        run = wait_for(api, accepted.json()["url"])
        assert run["status"] == "done", run["error"]
    backtest = wait_for(api, runs[0].json()["url"])
    assert backtest["result"]["data"]["version"] == manifest.version
