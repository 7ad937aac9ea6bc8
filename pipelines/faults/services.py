"""Faults against the running services: the database locked, the database stopped, oversize bodies.

Each scenario starts a real `tradeops serve ...` process (default settings unless said) on a real PostgreSQL
or SQLite, injects the fault, and times what clients see. Bounded: every request has a client timeout.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.faults._inject import (
    frozen_postgres,
    locked_table,
    memory_mb,
    post_oversize,
    postgres_server,
    service,
    timed,
)

TOKEN = "faults-token-0123456789abcdef"  # noqa: S105 - a throwaway token for a loopback server
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - the shape of a Slack signing secret
HUNDRED_MB = 100 * 1024 * 1024
CLIENT_TIMEOUT = 20.0  # what a client (or a probe) waits at most before it counts the call as hung


@contextmanager
def _backtester_on_postgres() -> Iterator[tuple[str, str, Path]]:
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        pgdata = Path(folder) / "pg"
        with postgres_server(pgdata) as url:
            env = {"TRADEOPS_DATA_DIR": f"{folder}/app", "TRADEOPS_DATABASE_URL": url, "TRADEOPS_API_TOKEN": TOKEN}
            with service(["serve", "backtester"], env | {"TRADEOPS_WORKERS": "1"}) as (base, _pid):
                yield base, url, pgdata


def _probe(base: str) -> dict[str, Any]:
    """Time what a cluster probes and a client would call while the fault holds."""
    calls = {
        "healthz": ("GET", "/healthz", {}),
        "readyz": ("GET", "/readyz", {}),
        "metrics": ("GET", "/metrics", {}),
        "strategies": ("GET", "/v1/strategies", {}),
        "post_backtest": ("POST", "/v1/backtests", {"json": {"strategy": "sma_cross"}, "headers": AUTH}),
    }
    figures: dict[str, Any] = {}
    for name, (method, path, options) in calls.items():
        seconds, outcome = timed(method, f"{base}{path}", timeout=CLIENT_TIMEOUT, **options)
        figures[f"{name}_s"], figures[f"{name}_answer"] = seconds, outcome
    figures["requests"] = len(calls)
    figures["hung"] = sum(1 for key, value in figures.items() if key.endswith("_answer") and isinstance(value, str))
    return figures


def _judged(name: str, figures: dict[str, Any]) -> dict[str, Any]:
    passed = (
        figures["healthz_answer"] == 200
        and figures["healthz_s"] < 1
        and figures["readyz_answer"] == 503
        and figures["readyz_s"] < 5
        and figures["hung"] == 0
    )
    return {"name": name, "passed": passed, "time_to_503_s": figures["readyz_s"], **figures}


def db_locked() -> dict[str, Any]:
    """`LOCK TABLE runs IN ACCESS EXCLUSIVE MODE` in another session; a /status call already waiting on it."""
    with _backtester_on_postgres() as (base, url, _pgdata), locked_table(url, "runs"):
        waiting = threading.Thread(target=timed, args=("GET", f"{base}/status"), kwargs={"timeout": 30}, daemon=True)
        waiting.start()
        figures = _probe(base)
    return _judged("db_locked", figures)


def db_stopped() -> dict[str, Any]:
    """The PostgreSQL server and its backends SIGSTOPped: connections open, nothing answers."""
    with _backtester_on_postgres() as (base, _url, pgdata), frozen_postgres(pgdata):
        figures = _probe(base)
    return _judged("db_stopped", figures)


def oversize_bodies() -> dict[str, Any]:
    """100 MB POSTs to the backtester (declared, streamed without and with the token) and 200 MB unsigned to
    the Slack bot (declared, streamed); the servers' memory before and after."""
    figures: dict[str, Any] = {"requests": 0, "errors": 0}
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        env = {"TRADEOPS_DATA_DIR": folder, "TRADEOPS_API_TOKEN": TOKEN, "TRADEOPS_WORKERS": "1"}
        targets: list[tuple[str, list[str], dict[str, str], str, int, list[tuple[bool, dict[str, str], int]]]] = [
            ("backtester", ["serve", "backtester"], {}, "/v1/backtests", HUNDRED_MB,
             [(False, {}, 413), (True, {}, 401), (True, AUTH, 413)]),
            ("slackbot", ["serve", "slackbot"], {"TRADEOPS_SLACK_SIGNING_SECRET": SIGNING_SECRET}, "/slack/commands",
             2 * HUNDRED_MB, [(False, {}, 413), (True, {}, 413)]),
        ]  # fmt: skip
        for name, args, extra, path, size, attempts in targets:
            with service(args, env | extra) as (base, pid):
                before = memory_mb(pid)
                for chunked, headers, expected in attempts:
                    status, taken = post_oversize(base, path, size, chunked=chunked, headers=headers)
                    figures["requests"] += 1
                    figures["errors"] += status != expected
                    figures[f"{name}_{'streamed' if chunked else 'declared'}{'_auth' if headers else ''}"] = (
                        f"{status} after {taken / 1e6:.1f} MB"
                    )
                after = memory_mb(pid)
                figures[f"{name}_rss_mb"] = f"{before.get('rss')} -> {after.get('rss')}"
                figures[f"{name}_peak_mb"] = f"{before.get('peak')} -> {after.get('peak')}"
                figures[f"{name}_peak_growth_mb"] = round(after.get("peak", 0) - before.get("peak", 0), 1)
    passed = figures["errors"] == 0 and all(v < 50 for k, v in figures.items() if k.endswith("_peak_growth_mb"))
    return {"name": "oversize_bodies", "passed": passed, **figures}


def scenarios() -> list[Callable[[], dict[str, Any]]]:
    return [db_locked, db_stopped, oversize_bodies]
