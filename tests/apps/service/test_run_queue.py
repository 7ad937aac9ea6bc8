"""DC-36: the run queue is the database. Runs accepted before and during a database outage (PostgreSQL frozen,
SQLite's write lock held) all finish once it is over, /readyz says 503 meanwhile; a runner's lease that runs
out (its instance killed) hands the run to another runner, and a live runner's runs are never taken."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from pipelines.faults._inject import frozen_postgres, sqlite_write_lock
from pipelines.faults.outage import runs_through_outage

from tests.apps.service.conftest import AUTH, TOKEN
from tests.fakes.servers import fresh_database, postgres, tradeops_service, uvicorn_server
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

pytestmark = pytest.mark.req("DC-36")
SLOW_SWEEP = {  # about 30,000 grid points on 80 symbols: busy for longer than the test watches it
    "strategy": "sma_cross",
    "data": "sample:synthetic?symbols=80&bars=3000",
    "grid": {"fast": list(range(2, 101)), "slow": list(range(101, 401))},
}


def backtester(data_dir: Path, **options: object):
    defaults = {
        "workers": 2,
        "dependency_timeout_seconds": 1.0,
        "database_statement_timeout_seconds": 1.0,
        "database_connect_timeout_seconds": 2.0,
        "request_timeout_seconds": 4.0,
    }
    settings = load_settings(data_dir=data_dir, api_token=TOKEN, **(defaults | options))
    return uvicorn_server(create_app(settings))


def assert_came_through(figures: dict[str, object]) -> None:
    print(figures)  # the numbers quoted in the docs; shown when the test fails
    assert figures["stuck"] == 0 and figures["finished"] == figures["accepted"], figures
    assert set(figures["readyz_during"]) == {"503"}, figures  # type: ignore[arg-type]
    assert figures["phantom_runs"] == 0 and figures["retry_duplicates"] == 0, figures


def test_dc_36_runs_accepted_before_a_postgres_freeze_all_finish_after_it(tmp_path):
    pgdata = tmp_path / "pg"
    with postgres(pgdata) as server, backtester(tmp_path / "app", database_url=fresh_database(server)) as base:
        figures = runs_through_outage(base, AUTH, frozen_postgres(pgdata), runs=8, outage_seconds=10, clients=16)
    assert_came_through(figures)


def test_dc_36_runs_accepted_before_sqlite_is_locked_all_finish_after_it(tmp_path):
    with backtester(tmp_path / "app") as base:
        database = tmp_path / "app" / "tradeops.db"
        assert database.exists()
        figures = runs_through_outage(base, AUTH, sqlite_write_lock(database), runs=8, outage_seconds=8, clients=8)
    assert_came_through(figures)


def _status(base: str) -> dict[str, object]:
    return httpx.get(f"{base}/status", timeout=10).json()


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_dc_36_a_killed_instances_run_returns_to_the_queue_when_its_lease_runs_out(tmp_path):
    """Instance A runs a slow sweep; B, started meanwhile on the same database, leaves it alone while A lives;
    A is killed -9 (its worker dies with it); after A's lease B takes the run and finishes it."""
    lease = 3
    data = tmp_path / "app"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "TRADEOPS_DATA_DIR": str(data),
        "TRADEOPS_API_TOKEN": TOKEN,
        "TRADEOPS_WORKERS": "1",
        "TRADEOPS_JOB_LEASE_SECONDS": str(lease),
    }
    with tradeops_service(["serve", "backtester"], env, timeout=120) as a:
        accepted = httpx.post(f"{a.base}/v1/sweeps", json=SLOW_SWEEP, headers=AUTH, timeout=20).json()
        url = f"{a.base}{accepted['url']}"
        _wait(lambda: httpx.get(url, timeout=10).json()["status"] == "running", 60, "the sweep never started on A")
        workers = _status(a.base).get("workers", {}).get("pool", [])  # type: ignore[attr-defined]
        with backtester(data, workers=1, job_lease_seconds=lease) as b:
            time.sleep(2 * lease)  # B turns several times: A's run is held, B must not take it
            assert _status(b)["queue"]["running"] == 0  # type: ignore[index]
            assert httpx.get(url, timeout=10).json()["status"] == "running"
            a.process.send_signal(signal.SIGKILL)
            a.process.wait(10)
            for worker in workers:
                _wait(lambda: not Path(f"/proc/{worker['pid']}").exists(), 10, "A's worker outlived A")
            run = f"{b}{accepted['url']}"
            _wait(lambda: httpx.get(run, timeout=10).json()["status"] in ("done", "failed"), 180, "B never ran it")
            assert httpx.get(run, timeout=10).json()["status"] == "done"


def test_dc_36_status_and_metrics_answer_within_one_deadline_while_postgres_is_frozen(tmp_path):
    """Their dependency calls run side by side: about one deadline, not one per dependency in a row."""
    deadline = 2.0
    pgdata = tmp_path / "pg"
    with (
        postgres(pgdata) as server,
        backtester(tmp_path / "app", database_url=fresh_database(server), dependency_timeout_seconds=deadline) as base,
    ):
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        with frozen_postgres(pgdata):
            for path in ("/status", "/metrics", "/status", "/metrics"):
                started = time.perf_counter()
                answer = httpx.get(f"{base}{path}", timeout=20)
                seconds = time.perf_counter() - started
                assert answer.status_code == 200 and seconds < 2 * deadline, (path, seconds)
