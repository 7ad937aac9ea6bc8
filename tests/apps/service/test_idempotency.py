"""DC-37: every POST that creates work takes an Idempotency-Key: a retry with the same key and body returns the
first call's run, the same key with another body is refused, and a POST answered 503 leaves no run behind."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from pipelines.faults._inject import sqlite_write_lock

from tests.apps.service.conftest import AUTH, TOKEN
from tests.fakes.servers import uvicorn_server
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

pytestmark = pytest.mark.req("DC-37")
BACKTEST = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}
GATE = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}
SWEEP = {"strategy": "sma_cross", "grid": {"fast": [5, 10], "slow": [20, 40]}, "data": "sample:GOOG"}


@pytest.mark.parametrize(("path", "body"), [("backtests", BACKTEST), ("gate", GATE), ("sweeps", SWEEP)])
def test_dc_37_the_same_key_returns_the_same_run_and_another_body_is_refused(api, path, body):
    key = {"Idempotency-Key": "retry-0001"}
    first = api.post(f"/v1/{path}", json=body, headers=AUTH | key)
    again = api.post(f"/v1/{path}", json=body, headers=AUTH | key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.get(f"/v1/{path}").json()["total"] == 1
    other = api.post(f"/v1/{path}", json=body | {"params": {"fast": 7, "slow": 21}}, headers=AUTH | key)
    assert other.status_code == 422
    (error,) = other.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"] and "different request" in error["msg"], error
    without = [api.post(f"/v1/{path}", json=body, headers=AUTH).json()["id"] for _ in range(2)]
    assert len(set(without)) == 2  # no key: every POST is a new run, as before
    assert api.post(f"/v1/{path}", json=body, headers=AUTH | {"Idempotency-Key": "x" * 129}).status_code == 422


def test_dc_37_a_post_answered_503_while_the_database_is_locked_leaves_no_run(tmp_path):
    """The insert waits on SQLite's write lock past the request's deadline: the client gets 503, and when the
    lock goes the insert must not land (it used to, 1 POST in 66 during an outage)."""
    settings = load_settings(
        data_dir=tmp_path,
        api_token=TOKEN,
        workers=1,
        request_timeout_seconds=2,
        database_statement_timeout_seconds=15,
    )
    with uvicorn_server(create_app(settings)) as base:
        answers: list[int] = []
        with sqlite_write_lock(tmp_path / "tradeops.db"):
            post = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(f"{base}/v1/backtests", json=BACKTEST, headers=AUTH, timeout=30).status_code
                )
            )
            post.start()
            post.join(10)
            time.sleep(1)
        time.sleep(3)  # the handler's insert gets the lock now
        assert answers == [503]
        assert httpx.get(f"{base}/v1/backtests", timeout=10).json()["total"] == 0
