"""`tradeops serve trader`: the loop in the service, the health standard, metrics and the kill-switch API."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from tests.fakes.servers import uvicorn_server
from tradeops.errors import ConfigError
from tradeops.settings import load_settings
from tradeops.trader.service import create_app

TOKEN = "trader-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CANDIDATE = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "data": "sample:synthetic?bars=300"}


def settings(tmp_path, **extra):
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(CANDIDATE))
    options = {
        "data_dir": tmp_path / "data",
        "api_token": TOKEN,
        "trader_candidate": candidate,
        "trader_session": "svc",
    }
    return load_settings(**(options | extra))


def until(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.req("DC-12", "OE-5")
def test_dc_12_oe_5_the_trader_service_trades_reports_health_metrics_and_obeys_the_kill_switch(tmp_path):
    app = create_app(settings(tmp_path, trader_replay_speed=100))
    with uvicorn_server(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        status = until(lambda: (s := http.get("/status").json())["last_heartbeat"] and s)
        assert status["service"] == "trader" and status["session"] == "svc" and status["feed"] == "replay"
        assert http.get("/readyz").status_code == 200
        change = {"action": "halt", "reason": "manual check"}
        assert http.post("/v1/trader/state", json=change).status_code == 401
        halted = http.post("/v1/trader/state", json=change, headers=AUTH)
        assert halted.status_code == 200 and halted.json()["state"] == "halted"
        assert http.post("/v1/trader/state", json=change | {"action": "pause"}, headers=AUTH).status_code == 422
        until(lambda: http.get("/v1/trader/status").json()["status"] == "finished")
        metrics = http.get("/metrics").text
        for name in ("equity", "pnl", "exposure", "drawdown_pct", "orders_total", "rejections_total"):
            assert f"tradeops_trader_{name}" in metrics
        assert 'tradeops_trader_state{session="svc",state="halted"} 1.0' in metrics
        audit = http.get("/v1/trader/audit", headers=AUTH).json()
        assert audit[0]["actor"] == "token:api-client" and audit[0]["action"] == "trader.halted"


@pytest.mark.req("DC-12", "OE-5")
def test_dc_12_oe_5_a_crashed_loop_makes_the_trader_unready_then_restarts_from_the_ledger(tmp_path):
    feed = tmp_path / "live.csv"
    good = "timestamp,open,high,low,close,volume\n" + "".join(
        f"2024-01-{day:02d},{10 + day},{11 + day},{9 + day},{10 + day},100\n" for day in range(1, 6)
    )
    feed.write_text(good + "2024-01-06,16,17,15,nan,100\n")  # the collector wrote half a row
    app = create_app(settings(tmp_path, trader_feed_file=feed, trader_poll_seconds=0.1))
    with uvicorn_server(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        response = until(lambda: (r := http.get("/readyz")).status_code == 503 and r)
        assert "trading loop stopped: DataError" in response.json()["failed"]["loop"]
        assert "close" in response.json()["failed"]["loop"] and http.get("/status").json()["feed"] == "polling"
        assert http.get("/healthz").status_code == 200
        feed.write_text(good + "2024-01-06,16,17,15,16,100\n")  # repaired
        until(lambda: http.get("/readyz").status_code == 200, timeout=30)
        assert until(lambda: http.get("/v1/trader/status").json()["last_bar"] == 5, timeout=30)


@pytest.mark.req("DC-12")
def test_dc_12_the_trader_needs_its_candidate(tmp_path):
    with pytest.raises(ConfigError, match="TRADEOPS_TRADER_CANDIDATE"):
        create_app(load_settings(data_dir=tmp_path))


@pytest.mark.req("DC-16")
def test_dc_16_the_audit_names_the_authenticated_principal_and_reading_it_needs_the_token(tmp_path):
    app = create_app(settings(tmp_path, trader_replay_speed=5))
    with uvicorn_server(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        until(lambda: http.get("/v1/trader/status").status_code == 200)
        claimed = {"action": "halt", "reason": "the risk engine says so", "actor": "risk-engine"}
        refused = http.post("/v1/trader/state", json=claimed, headers=AUTH)
        assert refused.status_code == 422 and "actor" in refused.text  # the body cannot name who acts
        claimed.pop("actor")
        assert http.post("/v1/trader/state", json=claimed).status_code == 401
        assert http.post("/v1/trader/state", json=claimed, headers=AUTH).status_code == 200
        assert http.get("/v1/trader/audit").status_code == 401
        entries = http.get("/v1/trader/audit", headers=AUTH).json()
        assert [(e["actor"], e["action"]) for e in entries] == [("token:api-client", "trader.halted")]


@pytest.mark.req("DC-15", "DC-12")
def test_dc_15_dc_12_the_trader_follows_its_dataset_and_a_stalled_feed_makes_it_unready(tmp_path):
    import pandas as pd

    from tradeops.data import load_bars
    from tradeops.data.datasets import DatasetStore
    from tradeops.data.imports import bars_to_frames
    from tradeops.store.objects import FolderObjectStore

    bars = load_bars("sample:synthetic?bars=120")
    (frame,) = bars_to_frames(bars).values()
    frame["timestamp"] = pd.date_range("2024-01-01", periods=len(frame), freq="1s")  # one-second bars
    store = DatasetStore(FolderObjectStore(tmp_path / "data" / "objects"))
    store.write("ticks-1s", {"TICK": frame.head(100)}, timeframe="1s", source="test")
    candidate = tmp_path / "following.yaml"
    candidate.write_text(yaml.safe_dump(CANDIDATE | {"data": "dataset:ticks-1s"}))
    app = create_app(settings(tmp_path, trader_poll_seconds=0.05, feed_stall_bars=2, trader_candidate=candidate))
    with uvicorn_server(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        until(lambda: http.get("/v1/trader/status").json().get("last_bar") == 99)
        assert http.get("/status").json()["feed"] == "dataset"
        store.write("ticks-1s", {"TICK": frame}, timeframe="1s", source="test")  # the market-data job ran
        until(lambda: http.get("/v1/trader/status").json().get("last_bar") == 119)
        response = until(lambda: (r := http.get("/readyz")).status_code == 503 and r)  # no new bar for 2 s
        assert "feed dataset:ticks-1s stalled" in response.json()["failed"]["feed"]
        metrics = http.get("/metrics").text
        assert 'tradeops_trader_feed_stalled{feed="dataset:ticks-1s"} 1.0' in metrics
        assert "tradeops_trader_feed_seconds_since_new_bar" in metrics
