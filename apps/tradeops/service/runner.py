"""A bounded queue of jobs and a bounded pool of worker processes, with time limits and cancellation."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tradeops.engine.result import ENGINE_VERSION
from tradeops.errors import without_paths
from tradeops.notify import Notifier
from tradeops.notify.messages import gate_verdict, run_finished
from tradeops.service.worker import ObjectsLocation, child_main
from tradeops.store import ObjectStore, RunStore

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """The queue holds `queue_limit` jobs already; try again later."""


@dataclass
class _Running:
    run_id: str
    process: BaseProcess
    connection: Connection
    deadline: float


class JobRunner:
    """Runs queued run ids in child processes; the only writer of their results."""

    def __init__(
        self,
        store: RunStore,
        objects: ObjectStore,
        notifier: Notifier,
        *,
        workers: int,
        queue_limit: int,
        timeout_seconds: float,
        registry: CollectorRegistry | None = None,
        heartbeat: Callable[[], None] = lambda: None,
        path_roots: dict[str, str] | None = None,
        objects_location: ObjectsLocation | None = None,
    ) -> None:
        self.store, self.objects, self.notifier = store, objects, notifier
        self.objects_location = objects_location  # where workers read `dataset:` bars (they cannot share `objects`)
        self.workers, self.queue_limit, self.timeout = workers, queue_limit, timeout_seconds
        self._queue: deque[str] = deque()
        self._reserved = 0
        self.path_roots = path_roots or {}  # server folders a failed run's error must not show (see without_paths)
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["tradeops.service.worker"])
        registry = registry or CollectorRegistry()
        self.jobs = Counter("tradeops_jobs", "finished jobs by outcome", ["kind", "outcome"], registry=registry)
        self.duration = Histogram(
            "tradeops_job_seconds",
            "job duration",
            ["kind"],
            registry=registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
        )
        Gauge("tradeops_jobs_queued", "jobs waiting", registry=registry).set_function(lambda: len(self._queue))
        Gauge("tradeops_jobs_running", "jobs running", registry=registry).set_function(lambda: len(self._running))
        self.heartbeat = heartbeat
        self._last_turn = time.monotonic()

    @property
    def depth(self) -> dict[str, int]:
        return {"queued": len(self._queue), "running": len(self._running)}

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; running jobs are killed and left queued in the store for the next start."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        for job in list(self._running.values()):
            job.process.kill()
            job.process.join(1)

    @contextmanager
    def reserved(self) -> Iterator[Callable[[str], None]]:
        """Hold a place in the queue, or raise QueueFull before anything is written; yield the function that
        queues the run created meanwhile (a place not used is given back)."""
        with self._lock:
            if len(self._queue) + self._reserved >= self.queue_limit:
                raise QueueFull(f"{len(self._queue)} jobs queued")
            self._reserved += 1
        try:
            yield lambda run_id: self.submit(run_id, force=True)
        finally:
            with self._lock:
                self._reserved -= 1

    def submit(self, run_id: str, *, force: bool = False) -> None:
        """Queue a run; raise QueueFull when `queue_limit` are already waiting (unless `force`)."""
        with self._lock:
            if not force and len(self._queue) + self._reserved >= self.queue_limit:
                raise QueueFull(f"{len(self._queue)} jobs queued")
            self._queue.append(run_id)
        self._wake.set()

    def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running run; return whether it was still cancellable."""
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
            job = self._running.pop(run_id, None)
        if job is not None:
            job.process.kill()
            job.process.join(5)
        return self.store.cancel(run_id)

    def check_alive(self) -> None:
        """Raise unless the runner's loop is alive and turned within the last 30 seconds (a readiness check)."""
        if not self._thread.is_alive():
            raise RuntimeError("the job runner has stopped")
        if time.monotonic() - self._last_turn > 30:
            raise RuntimeError(f"the job runner has not turned for {time.monotonic() - self._last_turn:.0f} s")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._turn()
            except Exception:  # a store outage must not end the runner; retry after a pause
                log.exception("job runner turn failed; retrying in 1 s")
                self._stop.wait(1.0)

    def _turn(self) -> None:
        self._last_turn = time.monotonic()
        self.heartbeat()
        self._start_waiting()
        waitables: list[Any] = [j.connection for j in self._running.values()]
        waitables += [j.process.sentinel for j in self._running.values()]
        if waitables:
            wait(waitables, timeout=0.2)
        else:
            self._wake.wait(0.5)
            self._wake.clear()
        self._reap()

    def _start_waiting(self) -> None:
        while len(self._running) < self.workers:
            with self._lock:
                if not self._queue:
                    return
                run_id = self._queue.popleft()
            run = self.store.get(run_id)
            if run is None or not self.store.mark_running(run_id):
                continue  # cancelled while queued
            try:
                receiver, sender = self._context.Pipe(duplex=False)
                process = self._context.Process(
                    target=child_main, args=(sender, run.kind, run.request, self.objects_location), daemon=True
                )
                process.start()
                sender.close()
            except Exception as error:  # noqa: BLE001 - this run fails, the runner goes on
                self.store.fail(run_id, self._public(f"could not start a worker: {type(error).__name__}: {error}"))
                continue
            with self._lock:
                self._running[run_id] = _Running(run_id, process, receiver, time.monotonic() + self.timeout)
            current = self.store.get(run_id)
            if current is not None and current.status == "cancelled":  # cancelled while the worker was starting
                with self._lock:
                    self._running.pop(run_id, None)
                process.kill()
                process.join(5)

    def _reap(self) -> None:
        for job in list(self._running.values()):
            outcome: tuple[str, Any] | None = None
            if job.connection.poll():
                try:
                    outcome = job.connection.recv()
                except EOFError:
                    outcome = None  # the worker died before answering
                except Exception as error:  # noqa: BLE001 - an unreadable answer fails the run, not the runner
                    outcome = ("error", f"worker answer unreadable: {type(error).__name__}: {error}")
            if outcome is None and job.process.is_alive():
                if time.monotonic() < job.deadline:
                    continue
                job.process.kill()
                outcome = ("error", f"timed out after {self.timeout:g} s")
            job.process.join(5)
            with self._lock:
                if self._running.pop(job.run_id, None) is None:
                    continue  # cancelled meanwhile
            if outcome is None:
                outcome = ("error", f"worker crashed (exit code {job.process.exitcode})")
            self._record(job.run_id, outcome)

    def _record(self, run_id: str, outcome: tuple[str, Any]) -> None:
        run = self.store.get(run_id)
        if run is None or run.status != "running":
            return  # cancelled meanwhile: nothing to store or announce
        status, payload = outcome
        if status == "ok":
            try:
                report_key = self._save_artifacts(run_id, payload)
            except Exception as error:  # noqa: BLE001 - the object store failed: the run fails, the runner goes on
                status, payload = "error", f"results could not be stored: {type(error).__name__}: {error}"
        if status == "ok":
            self.store.finish(
                run_id,
                result=payload["result"],
                metrics=payload["metrics"],
                verdict=payload["verdict"],
                data_fingerprint=payload["fingerprint"],
                engine_version=ENGINE_VERSION,
                report_key=report_key,
            )
        else:
            self.store.fail(run_id, self._public(str(payload)))
        finished = self.store.get(run_id)
        assert finished is not None
        self.jobs.labels(run.kind, finished.status).inc()
        if finished.duration_seconds is not None:
            self.duration.labels(run.kind).observe(finished.duration_seconds)
        self.notifier.send(run_finished(finished))
        if finished.verdict is not None:
            self.notifier.send(gate_verdict(finished))

    def _public(self, error: str) -> str:
        return without_paths(error, self.path_roots)

    def _save_artifacts(self, run_id: str, payload: dict[str, Any]) -> str | None:
        if payload.get("table_csv"):
            self.objects.put(f"runs/{run_id}/table.csv", payload["table_csv"].encode(), "text/csv")
        if payload.get("report_html"):
            key = f"runs/{run_id}/report.html"
            self.objects.put(key, payload["report_html"].encode(), "text/html")
            return key
        return None
