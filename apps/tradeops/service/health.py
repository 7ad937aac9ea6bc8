"""The health standard every tradeops service mounts unchanged.

GET /healthz  alive (no dependency calls)      GET /readyz  dependencies reachable, else 503 with reasons
GET /status   service, version, uptime, checks  GET /metrics Prometheus text format

Whatever a dependency does, these answer: /healthz touches nothing and runs on the event loop; every check
and every collector that reads a dependency runs off the loop on a pool of its own with a deadline
(`dependency_timeout_seconds`), so a locked table or a stopped database gives 503 with the reason in time.
The calls of one answer run side by side under that one deadline (never one deadline after another): /status
and /metrics take at most about one deadline however many dependencies are down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tradeops.service.deadlines import BoundedCollector, DependencyCalls, outcome

Check = Callable[[], None]  # raises when the dependency is not usable


@dataclass
class Health:
    """What a service tells about itself; `checks` are its dependencies."""

    service: str
    version: str
    git_sha: str
    checks: dict[str, Check] = field(default_factory=dict)
    details: Callable[[], dict[str, Any]] = dict
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_heartbeat: datetime | None = None
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    deadline_seconds: float = 2.0

    def __post_init__(self) -> None:
        self.latency = Histogram(
            "tradeops_http_request_seconds", "HTTP request latency", ["route", "method", "code"], registry=self.registry
        )
        self.calls = DependencyCalls(self.deadline_seconds, self.registry)
        self._bounded: list[BoundedCollector] = []
        self._scraped_checks: dict[str, dict[str, Any]] | None = None
        self._scraping = threading.Lock()
        self.registry.register(_HealthCollector(self))

    def bounded(self, collector: Collector, name: str) -> Collector:
        """`collector` (which reads a dependency) with this service's deadline."""
        bounded = BoundedCollector(collector, self.calls, f"collect:{name}")
        self._bounded.append(bounded)
        return bounded

    def scrape(self) -> bytes:
        """The Prometheus text: every check and bounded collector started at once, all within one deadline."""
        with self._scraping:
            started = time.perf_counter()
            futures = self.calls.wait(self._check_calls() | {c.key: c.fetch for c in self._bounded})
            self._scraped_checks = self._results({k: f for k, f in futures.items() if k.startswith("check:")}, started)
            for collector in self._bounded:
                collector.prefetched = futures[collector.key]
            try:
                return generate_latest(self.registry)
            finally:
                self._scraped_checks = None

    def heartbeat(self) -> None:
        """Record that the service's main loop is alive."""
        self.last_heartbeat = datetime.now(UTC)

    def run_checks(self) -> dict[str, dict[str, Any]]:
        """Every check's outcome, all of them within the deadline (from any thread but the event loop)."""
        started = time.perf_counter()
        return self._results(self.calls.wait(self._check_calls()), started)

    async def check_all(self) -> dict[str, dict[str, Any]]:
        """`run_checks` for the event loop."""
        started = time.perf_counter()
        return self._results(await self.calls.await_all(self._check_calls()), started)

    async def checks_and_details(self) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        """Every check's outcome and `details`, side by side off the loop, within one deadline (the reason in
        place of details that are late or fail)."""
        started = time.perf_counter()
        futures = await self.calls.await_all(self._check_calls() | {"details": self.details})
        details_future = futures.pop("details")
        try:
            details = outcome(details_future, self.deadline_seconds)
        except Exception as error:  # noqa: BLE001 - reported, like a failing check
            details = {"details_error": f"{type(error).__name__}: {error}"[:300]}
        return self._results(futures, started), details

    def _check_calls(self) -> dict[str, Any]:
        return {f"check:{name}": _timed(check) for name, check in self.checks.items()}

    def _results(self, futures: dict[str, Any], started: float) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        for key, future in futures.items():
            name = key.removeprefix("check:")
            try:
                results[name] = {"ok": True, "latency_ms": outcome(future, self.deadline_seconds)}
            except Exception as error:  # noqa: BLE001 - a failing dependency is a reported state, not a crash
                results[name] = {
                    "ok": False,
                    "error": f"{type(error).__name__}: {error}"[:300],
                    "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                }
        return results


def _timed(check: Check) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        check()
        return round((time.perf_counter() - started) * 1000, 2)

    return run


class _HealthCollector(Collector):
    """`tradeops_ready` (dependencies answer) and the main loop's heartbeat, per service, at scrape time."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ready = GaugeMetricFamily("tradeops_ready", "1 when every dependency answers", labels=["service"])
        checks = self.health._scraped_checks or self.health.run_checks()
        ready.add_metric([self.health.service], float(all(r["ok"] for r in checks.values())))
        beat = GaugeMetricFamily(
            "tradeops_heartbeat_timestamp_seconds", "last heartbeat of the main loop", labels=["service"]
        )
        if self.health.last_heartbeat is not None:
            beat.add_metric([self.health.service], self.health.last_heartbeat.timestamp())
        yield ready
        yield beat


def install_health(app: FastAPI, health: Health) -> None:
    """Add the four endpoints and per-route latency measurement to `app`."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        health.latency.labels(path, request.method, str(response.status_code)).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:  # on the loop, no dependency: answers whatever they do
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Dependencies are reachable",
        responses={503: {"description": "a dependency failed"}},
    )
    async def readyz() -> JSONResponse:
        checks = await health.check_all()
        failed = {name: result["error"] for name, result in checks.items() if not result["ok"]}
        if failed:
            return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/status", tags=["health"], summary="Service, version, uptime, dependencies, heartbeat")
    async def status() -> dict[str, Any]:
        now = datetime.now(UTC)
        checks, details = await health.checks_and_details()
        return {
            "service": health.service,
            "version": health.version,
            "git_sha": health.git_sha,
            "started_at": health.started_at.isoformat(),
            "uptime_seconds": round((now - health.started_at).total_seconds(), 3),
            "last_heartbeat": health.last_heartbeat.isoformat() if health.last_heartbeat else None,
            "checks": checks,
            **details,
        }

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        # each collector that reads a dependency is bounded; this bounds the whole scrape on top
        future = (await health.calls.await_all({"metrics": health.scrape}, 10))["metrics"]
        try:
            return Response(outcome(future, 10), media_type=CONTENT_TYPE_LATEST)
        except TimeoutError as error:
            return Response(f"metrics not collected: {error}\n", status_code=503, media_type="text/plain")
