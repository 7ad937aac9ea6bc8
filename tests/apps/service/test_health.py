"""The health standard: /healthz, /readyz, /status, /metrics, reusable by every service."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.apps.service.conftest import AUTH, wait_for
from tradeops.service.health import Health, install_health

pytestmark = pytest.mark.req("OE-5")


def test_oe_5_backtester_reports_liveness_readiness_and_status(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}
    wait_for(api, api.post("/v1/backtests", json={"strategy": "sma_cross"}, headers=AUTH).json()["url"])
    status = api.get("/status").json()
    assert status["service"] == "backtester" and status["version"] and status["git_sha"] == "unknown"
    assert status["uptime_seconds"] > 0 and status["last_heartbeat"] is not None
    assert set(status["checks"]) == {"database", "object_store", "job_runner"}
    assert all(c["ok"] and c["latency_ms"] >= 0 for c in status["checks"].values())
    assert status["queue"] == {"queued": 0, "running": 0} and status["runs"] == {"done": 1}


def test_oe_5_metrics_expose_latency_by_route_and_job_counts(api):
    wait_for(api, api.post("/v1/backtests", json={"strategy": "sma_cross"}, headers=AUTH).json()["url"])
    text = api.get("/metrics").text
    assert 'tradeops_http_request_seconds_bucket{code="202",le="0.005",method="POST",route="/v1/backtests"}' in text
    assert 'route="/v1/backtests/{run_id}"' in text
    assert 'tradeops_jobs_total{kind="backtest",outcome="done"} 1.0' in text
    assert "tradeops_job_seconds_count" in text and "tradeops_jobs_queued 0.0" in text


def test_oe_5_readiness_fails_with_reasons_while_liveness_stays_up():
    def broken() -> None:
        raise ConnectionError("connection refused")

    app = FastAPI()
    health = Health(service="demo", version="1", git_sha="abc", checks={"database": broken, "cache": lambda: None})
    install_health(app, health)
    client = TestClient(app)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "failed": {"database": "ConnectionError: connection refused"}}
    status = client.get("/status").json()
    assert status["checks"]["database"]["ok"] is False and status["checks"]["cache"]["ok"] is True
    assert status["last_heartbeat"] is None
    health.heartbeat()
    assert client.get("/status").json()["last_heartbeat"] is not None


def test_oe_5_readiness_sees_a_database_that_went_away(make_api, tmp_path):
    with make_api() as api:
        api.app.state.store.engine.dispose()
        (tmp_path / "data" / "tradeops.db").unlink()
        (tmp_path / "data" / "tradeops.db").mkdir()  # a folder where the database file was: unusable
        ready = api.get("/readyz")
        assert ready.status_code == 503 and "database" in ready.json()["failed"]
        (tmp_path / "data" / "tradeops.db").rmdir()
