"""DC-38: jobs run on warm workers -- the engine loaded once per worker, not once per job -- that are replaced
after N jobs, killed with their job on cancel and on timeout, and die with the service."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.apps.service.conftest import AUTH, TOKEN, wait_for
from tests.fakes.servers import tradeops_service

pytestmark = pytest.mark.req("DC-38")
BACKTEST = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}
SLOW_SWEEP = {
    "strategy": "sma_cross",
    "data": "sample:synthetic?symbols=80&bars=3000",
    "grid": {"fast": list(range(2, 60)), "slow": list(range(61, 200, 2))},
}


def workers(api) -> dict:
    return api.get("/status").json()["workers"]


def ready(api, count: int = 1, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        pool = [w for w in workers(api)["pool"] if w["ready"]]
        if len(pool) >= count:
            return pool
        assert time.monotonic() < deadline, workers(api)
        time.sleep(0.1)


def run_backtests(api, count: int) -> None:
    for _ in range(count):
        accepted = api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()
        assert wait_for(api, accepted["url"])["status"] == "done"


def test_dc_38_jobs_after_the_first_run_in_the_same_warm_worker(make_api):
    with make_api(workers=1) as api:
        (worker,) = ready(api)
        run_backtests(api, 3)
        after = workers(api)
        assert [w["pid"] for w in after["pool"]] == [worker["pid"]] and after["pool"][0]["jobs"] == 3
        assert after["started"] == 1  # one engine load for three jobs
        niceness = int(Path(f"/proc/{worker['pid']}/stat").read_text().rsplit(")", 1)[1].split()[16])
        assert niceness == min(19, os.nice(0) + 10)  # below the API's priority (the API's own, when a run is nice'd)


def test_dc_38_a_worker_is_replaced_after_its_last_allowed_job(make_api):
    with make_api(workers=1, worker_max_jobs=2) as api:
        (first,) = ready(api)
        run_backtests(api, 2)
        (second,) = ready(api)
        assert second["pid"] != first["pid"] and not Path(f"/proc/{first['pid']}").exists()
        run_backtests(api, 1)
        assert workers(api)["started"] == 2 and workers(api)["pool"][0]["jobs"] == 1


def _running_pid(api, url: str) -> int:
    wait_for(api, url, states=("running",))
    deadline = time.monotonic() + 10
    while True:
        busy = [w["pid"] for w in workers(api)["pool"] if w["run_id"] == url.rsplit("/", 1)[1]]
        if busy:
            return busy[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_dc_38_cancel_and_timeout_kill_the_job_with_its_worker_and_a_fresh_one_takes_over(make_api):
    with make_api(workers=1, job_timeout_seconds=3) as api:
        ready(api)
        url = api.post("/v1/sweeps", json=SLOW_SWEEP, headers=AUTH).json()["url"]
        pid = _running_pid(api, url)
        assert api.delete(url, headers=AUTH).json()["status"] == "cancelled"
        assert not Path(f"/proc/{pid}").exists()  # killed before the answer
        ready(api)
        url = api.post("/v1/sweeps", json=SLOW_SWEEP, headers=AUTH).json()["url"]
        pid = _running_pid(api, url)
        failed = wait_for(api, url)
        assert failed["status"] == "failed" and failed["error"] == "timed out after 3 s"
        assert not Path(f"/proc/{pid}").exists()
        run_backtests(api, 1)  # and the pool still works


def test_dc_38_workers_die_with_a_service_killed_with_sigkill(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "TRADEOPS_DATA_DIR": str(tmp_path),
        "TRADEOPS_API_TOKEN": TOKEN,
        "TRADEOPS_WORKERS": "2",
    }
    with tradeops_service(["serve", "backtester"], env, timeout=120) as service:
        deadline = time.monotonic() + 60
        while True:
            pool = httpx.get(f"{service.base}/status", timeout=10).json()["workers"]["pool"]
            if len(pool) == 2 and all(w["ready"] for w in pool):
                break
            assert time.monotonic() < deadline, pool
            time.sleep(0.2)
        service.process.send_signal(signal.SIGKILL)
        service.process.wait(10)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{w['pid']}").exists() for w in pool):
            assert time.monotonic() < deadline, "a worker outlived its service"
            time.sleep(0.1)
