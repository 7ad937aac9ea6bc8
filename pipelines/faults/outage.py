"""A database outage under traffic: runs accepted before and during it all finish after recovery.

The same function drives the `make faults` scenarios (a real `tradeops serve backtester` process) and the
suite's tests (an in-process server): it accepts runs, holds the outage while clients keep calling (reads,
POSTs with an Idempotency-Key), then counts what became of every run.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from pipelines.faults._inject import frozen_postgres, postgres_server, service, sqlite_write_lock

FINAL = ("done", "failed", "cancelled")
BACKTEST = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}


def _post(base: str, headers: dict[str, str], key: str, timeout: float) -> tuple[int | str, str | None]:
    try:
        response = httpx.post(
            f"{base}/v1/backtests", json=BACKTEST, headers=headers | {"Idempotency-Key": key}, timeout=timeout
        )
    except httpx.HTTPError as error:
        return type(error).__name__, None
    return response.status_code, response.json()["id"] if response.status_code == 202 else None


def _traffic(base: str, headers: dict[str, str], ids: list[str], stop: threading.Event, seen: dict[str, Any]) -> None:
    """Read runs and POST new ones until `stop`; every POST's key and answer go into `seen`."""
    while not stop.is_set():
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/v1/backtests/{ids[len(seen) % len(ids)]}", timeout=20)
        key = uuid.uuid4().hex
        seen[key] = _post(base, headers, key, 20)


def runs_through_outage(
    base: str,
    headers: dict[str, str],
    outage: AbstractContextManager[Any],
    *,
    runs: int = 8,
    outage_seconds: float = 8.0,
    clients: int = 12,
    settle_seconds: float = 120.0,
) -> dict[str, Any]:
    """Accept `runs`, hold `outage` for `outage_seconds` under `clients` busy clients, then wait for every
    accepted run to end. Figures: accepted, finished, stuck (accepted and not ended), /readyz during the outage,
    runs created by POSTs answered otherwise than 202 (phantom), and duplicates when those POSTs are retried."""
    accepted: list[str] = []
    for _ in range(runs):
        _, run_id = _post(base, headers, uuid.uuid4().hex, 20)
        if run_id is not None:
            accepted.append(run_id)
    before = httpx.get(f"{base}/v1/backtests", params={"limit": 1}, timeout=20).json()["total"]
    seen: dict[str, Any] = {}
    stop = threading.Event()
    readyz: list[int | str] = []
    with outage:
        threads = [
            threading.Thread(target=_traffic, args=(base, headers, accepted, stop, seen), daemon=True)
            for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        ends = time.monotonic() + outage_seconds
        while time.monotonic() < ends:
            try:
                readyz.append(httpx.get(f"{base}/readyz", timeout=10).status_code)
            except httpx.HTTPError as error:
                readyz.append(type(error).__name__)
            time.sleep(1)
        stop.set()
    recovered = time.monotonic()
    for thread in threads:
        thread.join(30)
    accepted += [answer[1] for answer in seen.values() if answer[1] is not None]
    statuses = _settle(base, accepted, settle_seconds)
    answered_202 = sum(1 for answer in seen.values() if answer[1] is not None)
    total = httpx.get(f"{base}/v1/backtests", params={"limit": 1}, timeout=20).json()["total"]
    retried = {key: _post(base, headers, key, 20) for key, answer in seen.items() if answer[1] is None}
    after_retry = httpx.get(f"{base}/v1/backtests", params={"limit": 1}, timeout=20).json()["total"]
    counts = Counter(statuses.values())
    return {
        "accepted": len(accepted),
        "finished": counts.get("done", 0),
        "failed": counts.get("failed", 0),
        "stuck": sum(1 for status in statuses.values() if status not in FINAL),
        "recovery_s": round(time.monotonic() - recovered, 1),
        "readyz_during": dict(Counter(str(code) for code in readyz)),
        "posts_during": len(seen),
        "phantom_runs": total - before - answered_202,
        "retried_posts": len(retried),
        # each key retried should own exactly one run: the one its first POST made, or the retry's
        "retry_duplicates": total
        - before
        - answered_202
        + after_retry
        - total
        - sum(1 for answer in retried.values() if answer[1] is not None),
    }


def _settle(base: str, ids: list[str], seconds: float) -> dict[str, str]:
    """Poll every run until all ended or `seconds` passed; the last status of each."""
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + seconds
    while True:
        for run_id in ids:
            if statuses.get(run_id) not in FINAL:
                try:
                    statuses[run_id] = httpx.get(f"{base}/v1/backtests/{run_id}", timeout=20).json()["status"]
                except (httpx.HTTPError, KeyError, ValueError):
                    statuses[run_id] = "unknown"
        if all(status in FINAL for status in statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


TOKEN = "faults-token-0123456789abcdef"  # noqa: S105 - a throwaway token for a loopback server
SETTINGS = {  # the API's deadlines shorter than the outage, so every one of them is crossed
    "TRADEOPS_API_TOKEN": TOKEN,
    "TRADEOPS_WORKERS": "2",
    "TRADEOPS_DEPENDENCY_TIMEOUT_SECONDS": "2",
    "TRADEOPS_DATABASE_STATEMENT_TIMEOUT_SECONDS": "2",
    "TRADEOPS_REQUEST_TIMEOUT_SECONDS": "5",
    "TRADEOPS_JOB_LEASE_SECONDS": "15",
}


def _judged(name: str, figures: dict[str, Any]) -> dict[str, Any]:
    passed = (
        figures["stuck"] == 0
        and figures["finished"] == figures["accepted"]
        and set(figures["readyz_during"]) == {"503"}
        and figures["phantom_runs"] == 0
        and figures["retry_duplicates"] == 0
    )
    return {"name": name, "passed": passed, **figures}


def db_outage_postgres() -> dict[str, Any]:
    """PostgreSQL frozen (SIGSTOP) 30 s under 16 busy clients, with runs queued and running."""
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        pgdata = Path(folder) / "pg"
        with postgres_server(pgdata) as url:
            env = SETTINGS | {"TRADEOPS_DATA_DIR": f"{folder}/app", "TRADEOPS_DATABASE_URL": url}
            with service(["serve", "backtester"], env) as (base, _pid):
                auth = {"Authorization": f"Bearer {TOKEN}"}
                figures = runs_through_outage(
                    base, auth, frozen_postgres(pgdata), runs=10, outage_seconds=30, clients=16
                )
    return _judged("db_outage_postgres", figures)


def db_outage_sqlite() -> dict[str, Any]:
    """The SQLite file's write lock held 30 s by another process's connection under 8 busy clients."""
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        env = SETTINGS | {"TRADEOPS_DATA_DIR": f"{folder}/app"}
        with service(["serve", "backtester"], env) as (base, _pid):
            lock = sqlite_write_lock(Path(folder) / "app" / "tradeops.db")
            auth = {"Authorization": f"Bearer {TOKEN}"}
            figures = runs_through_outage(base, auth, lock, runs=10, outage_seconds=30, clients=8)
    return _judged("db_outage_sqlite", figures)


def scenarios() -> list[Callable[[], dict[str, Any]]]:
    return [db_outage_postgres, db_outage_sqlite]
