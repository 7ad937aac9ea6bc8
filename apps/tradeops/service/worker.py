"""What a worker process does with its jobs: pure work in, JSON-able results out.

Runs in a long-lived child process (forked from a preloaded forkserver, see `pool.py`) that loads the compiled
engine once and then takes one job at a time, so a crash or a timeout costs only that job and that worker; the
parent writes the results to the stores.
"""

from __future__ import annotations

import os
import resource
import traceback
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from tradeops.data import load_bars
from tradeops.engine import ExecutionSettings, run_backtest, run_grid
from tradeops.engine.result import equity_points, result_to_dict
from tradeops.errors import TradeopsError
from tradeops.gate import Verdict, run_gate, validate_candidate
from tradeops.gate.checks import evaluate
from tradeops.gate.thresholds import validate_thresholds
from tradeops.reports.embed import plotly_src
from tradeops.reports.embed import preload as preload_reports
from tradeops.reports.html import render
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid, validate_params
from tradeops.sweeps.results import best_records

if TYPE_CHECKING:
    from tradeops.store import ObjectStore

WORKER_NICENESS = 10
ObjectsLocation = tuple[str, str | None]  # (object store URL, S3 endpoint): where `dataset:` bars are read
preload_reports()  # the forkserver imports this module once: every job forks with plotly warm


def _objects(location: ObjectsLocation | None) -> ObjectStore | None:
    """The service's object store, opened in this process (None: the one the environment names)."""
    if location is None:
        return None
    from tradeops.store import open_object_store

    return open_object_store(*location)


def _backtest(request: dict[str, Any], objects: ObjectStore | None) -> dict[str, Any]:
    strategy = get_strategy(request["strategy"])
    params = validate_params(strategy, request.get("params", {}))
    settings = ExecutionSettings.model_validate(request.get("execution", {}))
    bars = _windowed(load_bars(request["data"], max_bars=request.get("max_bars"), objects=objects), request)
    verdict = None
    if request.get("thresholds") is not None:
        result, checks = evaluate(strategy, params, bars, settings, validate_thresholds(request["thresholds"]))
        verdict = Verdict(checks=checks)
    else:
        result = run_backtest(strategy, params, bars, settings)
    payload = result_to_dict(result)
    return {
        "result": payload | {"equity": equity_points(result.equity)},
        "metrics": payload["metrics"],
        "fingerprint": payload["data"]["fingerprint"],
        "verdict": _verdict_summary(verdict),
        "report_html": render(
            result, verdict, oos_train_fraction=_oos_train_fraction(request), plotly_src=plotly_src()
        ),
    }


def _windowed(bars: Any, request: dict[str, Any]) -> Any:
    """The bars inside the request's `window` (start/end), all of them without one."""
    from tradeops.data.window import Window

    window = request.get("window")
    return bars if window is None else Window.model_validate(window).apply(bars)


def _oos_train_fraction(request: dict[str, Any]) -> float | None:
    safety = (request.get("thresholds") or {}).get("safety") or {}
    return safety.get("oos_train_fraction") if safety.get("min_oos_sharpe_ratio") is not None else None


def _verdict_summary(verdict: Verdict | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    summary = verdict.to_dict()
    summary.pop("result", None)
    summary.pop("candidate", None)
    return summary


def _sweep(request: dict[str, Any], objects: ObjectStore | None) -> dict[str, Any]:
    strategy = get_strategy(request["strategy"])
    points, invalid = expand_grid(strategy, request.get("params", {}), request["grid"])
    if not points:
        raise TradeopsError(f"all {invalid} grid points are invalid for {strategy.name}")
    bars = _windowed(load_bars(request["data"], max_bars=request.get("max_bars"), objects=objects), request)
    table = run_grid(strategy, points, bars, ExecutionSettings.model_validate(request.get("execution", {})))
    sort_by = request.get("sort_by", "sharpe")
    best = best_records(table, sort_by, request.get("top", 5))
    result = {
        "points": len(points),
        "invalid_points": invalid,
        "sort_by": sort_by,
        "best": best,
        "data": {"name": bars.name, "fingerprint": bars.fingerprint(), **bars.provenance()},
    }
    return {
        "result": result,
        "metrics": best[0] if best else None,
        "fingerprint": bars.fingerprint(),
        "verdict": None,
        "table_csv": table.to_csv(index=False),
    }


def _gate(request: dict[str, Any], objects: ObjectStore | None) -> dict[str, Any]:
    candidate = {k: v for k, v in request.items() if k != "max_bars"}  # the cap is the server's, not the candidate's
    verdict, result = run_gate(validate_candidate(candidate), max_bars=request.get("max_bars"), objects=objects)
    payload = verdict.to_dict()
    return {
        "result": payload,
        "metrics": payload["result"]["metrics"] if payload["result"] else None,
        "fingerprint": payload["result"]["data"]["fingerprint"] if payload["result"] else None,
        "verdict": _verdict_summary(verdict),
        "report_html": render(result, verdict, plotly_src=plotly_src()) if result is not None else None,
    }


JOBS = {"backtest": _backtest, "sweep": _sweep, "gate": _gate}


def execute(kind: str, request: dict[str, Any], objects_location: ObjectsLocation | None = None) -> dict[str, Any]:
    """Run one job in this process; raise TradeopsError for bad input."""
    objects = _objects(objects_location) if str(request.get("data", "")).startswith("dataset:") else None
    return JOBS[kind](request, objects)


WARM_UP = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}


def answer(kind: str, request: dict[str, Any], objects_location: ObjectsLocation | None = None) -> tuple[str, Any]:
    """("ok", output) or ("error", message) for one job; never raises."""
    try:
        return "ok", execute(kind, request, objects_location)
    except TradeopsError as error:
        return "error", str(error)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which fails the job
        traceback.print_exc()  # the full trace goes to the worker's log, not to API clients
        return "error", f"internal error: {type(error).__name__}: {error}"


def peak_memory_mib() -> float:
    """The most memory this process has held (ru_maxrss; KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(connection: Connection, service_pid: int, objects_location: ObjectsLocation | None = None) -> None:
    """Entry point of a warm worker: load the engine, say ("ready", pid), then answer one job at a time,
    each answer followed by this process's peak memory; return when the parent closes the pipe.

    Workers run at a lower CPU priority so the API stays responsive while they compute, and die with the
    service (`die_with_parent`), never left computing for nobody.
    """
    from tradeops.processes import die_with_parent

    die_with_parent(service_pid)
    os.nice(WORKER_NICENESS)
    answer("backtest", WARM_UP)  # the compiled engine and the report templates, loaded once per worker
    connection.send(("ready", os.getpid()))
    while True:
        try:
            kind, request = connection.recv()
        except EOFError:
            return
        status, payload = answer(kind, request, objects_location)
        connection.send((status, payload, peak_memory_mib()))
