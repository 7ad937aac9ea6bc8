"""DC-16: the backtester answers whatever its database does: locked tables, a frozen server (real PostgreSQL,
real HTTP). /healthz never waits on a dependency; /readyz says 503 with the reason within its deadline."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from pipelines.faults._inject import frozen_postgres, locked_table, timed

from tests.apps.service.conftest import AUTH, TOKEN
from tests.fakes.servers import fresh_database, postgres, uvicorn_server
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

DEADLINE = 1.0  # dependency_timeout_seconds in these tests
SLACK = 4.0  # what a loaded test machine adds to a deadline (a hang is 12 s and more; failed at 1.5 under load)


def backtester(tmp_path: Path, database_url: str):
    settings = load_settings(
        data_dir=tmp_path,
        api_token=TOKEN,
        workers=1,
        database_url=database_url,
        dependency_timeout_seconds=DEADLINE,
        database_statement_timeout_seconds=3,
        request_timeout_seconds=5,
    )
    return uvicorn_server(create_app(settings))


def in_background(url: str) -> threading.Thread:
    """A request that waits on the database (e.g. /status reading run counts), left running."""
    thread = threading.Thread(target=timed, args=("GET", url), kwargs={"timeout": 20}, daemon=True)
    thread.start()
    return thread


@pytest.mark.req("DC-16")
def test_dc_16_health_metrics_and_strategies_answer_and_readyz_says_503_while_runs_is_locked(tmp_path, postgres_url):
    with backtester(tmp_path, postgres_url) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        with locked_table(postgres_url, "runs"):
            waiting = [in_background(f"{base}/status"), in_background(f"{base}/v1/backtests")]
            seconds, code = timed("GET", f"{base}/healthz", timeout=5)
            assert code == 200 and seconds < SLACK, (seconds, code)
            seconds, code = timed("GET", f"{base}/v1/strategies", timeout=5)
            assert code == 200 and seconds < SLACK, (seconds, code)
            started = timed("GET", f"{base}/readyz", timeout=10)
            assert started[1] == 503 and started[0] < DEADLINE + SLACK, started
            reason = httpx.get(f"{base}/readyz", timeout=10).json()["failed"]
            # the check's own lock_timeout and the 1 s deadline race (both are 1 s): either way the reason says why
            assert any(why in reason["database"] for why in ("no answer within 1 s", "LockNotAvailable")), reason
            seconds, code = timed("GET", f"{base}/metrics", timeout=10)
            assert code == 200 and seconds < 3 * DEADLINE + SLACK, (seconds, code)
            seconds, code = timed(
                "POST", f"{base}/v1/backtests", json={"strategy": "sma_cross"}, headers=AUTH, timeout=10
            )
            assert code == 503 and seconds < 5 + SLACK, (seconds, code)  # the statement timeout, then 503
        for thread in waiting:
            thread.join(20)
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200  # the lock is gone: ready again


@pytest.mark.req("DC-16")
def test_dc_16_readyz_answers_503_within_its_deadline_when_postgres_is_frozen(tmp_path):
    pgdata = tmp_path / "pg"
    with postgres(pgdata) as server, backtester(tmp_path / "app", fresh_database(server)) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        with frozen_postgres(pgdata):
            for _ in range(3):  # again and again: a check still stuck is joined, not piled up
                seconds, code = timed("GET", f"{base}/readyz", timeout=12)
                assert code == 503 and seconds < DEADLINE + SLACK, (seconds, code)
            seconds, code = timed("GET", f"{base}/healthz", timeout=5)
            assert code == 200 and seconds < SLACK, (seconds, code)
            seconds, code = timed("GET", f"{base}/v1/backtests", timeout=12)
            assert code == 503 and seconds < 5 + SLACK, (seconds, code)  # request_timeout_seconds
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
