"""Blocking dependency calls (database, object store, collectors) with a deadline, off the event loop.

The calls run on a small pool of their own, so a request handler stuck on a dead database can never starve
the health endpoints of threads. A call that is still under way when the same one is asked again is joined,
not started twice: a dependency that stopped answering holds one thread per check, never one per request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.registry import Collector

T = TypeVar("T")


class DependencyTimeout(TimeoutError):
    """A dependency did not answer within its deadline."""


class DependencyCalls:
    """Run named blocking calls on a bounded pool; wait for each no longer than `seconds`."""

    def __init__(self, seconds: float, registry: CollectorRegistry, *, workers: int = 16) -> None:
        self.seconds = seconds
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="dependency")
        self._running: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self.timeouts = Counter(
            "tradeops_dependency_timeouts", "dependency calls that missed their deadline", ["call"], registry=registry
        )

    def submit(self, key: str, call: Callable[[], T]) -> Future[T]:
        """Start `call`, or return the one under `key` still running."""
        with self._lock:
            running = self._running.get(key)
            if running is None or running.done():
                running = self._running[key] = self._pool.submit(call)
            return running

    def wait(self, calls: dict[str, Callable[[], T]]) -> dict[str, Future[T]]:
        """Start every call, wait until all answered or the deadline passed; the futures, done or not."""
        futures = {key: self.submit(key, call) for key, call in calls.items()}
        wait_all(futures.values(), timeout=self.seconds)
        self._count_late(futures)
        return futures

    async def await_all(self, calls: dict[str, Callable[[], T]], seconds: float | None = None) -> dict[str, Future[T]]:
        """`wait` for the event loop: the loop stays free while the calls run."""
        futures = {key: self.submit(key, call) for key, call in calls.items()}
        if futures:  # a service with no dependency to check (asyncio.wait refuses an empty set) is simply ready
            await asyncio.wait([asyncio.wrap_future(f) for f in futures.values()], timeout=seconds or self.seconds)
        self._count_late(futures)
        return futures

    def call(self, key: str, call: Callable[[], T]) -> T:
        """The result of one call, or DependencyTimeout when it missed the deadline (its error when it failed)."""
        return outcome(self.wait({key: call})[key], self.seconds)

    def _count_late(self, futures: dict[str, Future[Any]]) -> None:
        for key, future in futures.items():
            if not future.done():
                self.timeouts.labels(key).inc()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def outcome(future: Future[T], seconds: float) -> T:
    """The finished future's result (or its exception); DependencyTimeout when it is still running."""
    if not future.done():
        raise DependencyTimeout(f"no answer within {seconds:g} s")
    return future.result()


class BoundedCollector(Collector):
    """A Prometheus collector that reads a dependency, given a deadline: late or failing, it yields nothing
    (and the miss is counted in `tradeops_dependency_timeouts`), so one slow dependency never holds /metrics."""

    def __init__(self, collector: Collector, calls: DependencyCalls, key: str) -> None:
        self.collector, self.calls, self.key = collector, calls, key
        self.prefetched: Future[list[Any]] | None = None  # started with the others of a scrape (see Health.scrape)

    def fetch(self) -> list[Any]:
        return list(self.collector.collect())

    def collect(self) -> Iterator[Any]:
        future, self.prefetched = self.prefetched, None
        try:
            if future is not None:
                yield from outcome(future, self.calls.seconds)
            else:
                yield from self.calls.call(self.key, self.fetch)
        except Exception:  # noqa: BLE001 - a metric family missing for one scrape beats /metrics failing
            return
