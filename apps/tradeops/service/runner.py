"""The job runner: takes runs from the queue -- the database -- and runs them on warm worker processes.

A run is claimed by one conditional update (queued -> running, with this runner's lease) and stays in memory
until the database has recorded how it ended: a database outage delays runs, it never loses one. The runner
renews its leases while its jobs run; a lease that ran out (a runner killed, or cut off from the database
longer than the lease) returns its run to the queue, where any runner takes it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing.connection import wait
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tradeops.engine.result import ENGINE_VERSION
from tradeops.errors import without_paths
from tradeops.notify import Notifier
from tradeops.notify.messages import gate_verdict, run_finished
from tradeops.service.pool import Outcome, WarmPool
from tradeops.service.worker import ObjectsLocation
from tradeops.store import ObjectStore, Run, RunStore
from tradeops.store.runs import DONE, FAILED, ended_since

log = logging.getLogger(__name__)
ASSETS_PREFIX = "assets/"  # object-store keys of the shared plotly bundles stored reports load


class QueueFull(Exception):
    """The queue holds `queue_limit` jobs already; try again later."""


class JobRunner:
    """Runs the database's queued runs on a pool of warm workers; the only writer of their results."""

    def __init__(
        self,
        store: RunStore,
        objects: ObjectStore,
        notifier: Notifier,
        *,
        workers: int,
        queue_limit: int,
        timeout_seconds: float,
        lease_seconds: float = 30.0,
        max_jobs_per_worker: int = 500,
        max_worker_memory_mib: float | None = None,
        queue_deadline_seconds: float = 2.0,
        registry: CollectorRegistry | None = None,
        heartbeat: Callable[[], None] = lambda: None,
        path_roots: dict[str, str] | None = None,
        objects_location: ObjectsLocation | None = None,
    ) -> None:
        self.store, self.objects, self.notifier = store, objects, notifier
        self.queue_limit, self.timeout, self.lease_seconds = queue_limit, timeout_seconds, lease_seconds
        self.queue_deadline = queue_deadline_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this runner's leases
        self.pool = WarmPool(
            workers,
            timeout_seconds=timeout_seconds,
            max_jobs=max_jobs_per_worker,
            max_memory_mib=max_worker_memory_mib,
            objects_location=objects_location,  # where workers read `dataset:` bars (they cannot share `objects`)
        )
        self.path_roots = path_roots or {}  # server folders a failed run's error must not show (see without_paths)
        self._asset_kept = False  # the plotly bundle our reports name is in the object store
        self._runs: dict[str, Run] = {}  # claimed here and not yet recorded as ended
        self._ended: dict[str, Outcome] = {}  # ended in a worker, waiting for the database to record it
        self._queued = 0  # as the database said at the last turn
        self._reserved = 0
        self._renewed = 0.0
        self._queue_error: str | None = None
        self._call_started: float | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        registry = registry or CollectorRegistry()
        self.jobs = Counter("tradeops_jobs", "finished jobs by outcome", ["kind", "outcome"], registry=registry)
        self.duration = Histogram(
            "tradeops_job_seconds",
            "job duration",
            ["kind"],
            registry=registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
        )
        Gauge("tradeops_jobs_queued", "jobs waiting", registry=registry).set_function(lambda: self._queued)
        Gauge("tradeops_jobs_running", "jobs running", registry=registry).set_function(lambda: len(self._runs))
        self.heartbeat = heartbeat
        self._last_turn = time.monotonic()

    @property
    def depth(self) -> dict[str, int]:
        """Runs queued (as the database said at the last turn) and running here."""
        with self._lock:
            return {"queued": self._queued, "running": len(self._runs)}

    def workers(self) -> dict[str, Any]:
        """The warm workers (pid, jobs run, the run in hand), how many were started, the ended runs not yet
        recorded (the database was away)."""
        with self._lock:
            return {"pool": self.pool.view(), "started": self.pool.started, "unrecorded": len(self._ended)}

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; running jobs are killed and their runs handed back to the queue."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        with self._lock:
            self.pool.stop()
            held = [run_id for run_id in self._runs if run_id not in self._ended]
        try:
            self.store.release(self.holder, held)
        except Exception:  # noqa: BLE001 - the database is away: the leases run out and the runs return anyway
            log.warning("could not hand back %d runs; they return to the queue when their leases expire", len(held))

    @contextmanager
    def reserved(self) -> Iterator[Callable[[str], None]]:
        """Hold a place in the queue, or raise QueueFull before anything is written; yield the function that
        announces the run created meanwhile (a place not used is given back)."""
        with self._lock:
            self._reserved += 1
        try:
            queued = self.store.queued_count()
            if queued + self._reserved > self.queue_limit:
                raise QueueFull(f"{queued} jobs queued")
            yield lambda _run_id: self._wake.set()
        finally:
            with self._lock:
                self._reserved -= 1

    def submit(self, run_id: str) -> None:
        """Announce a run written as queued; raise QueueFull when more than `queue_limit` are waiting."""
        queued = self.store.queued_count()
        if queued > self.queue_limit:
            raise QueueFull(f"{queued} jobs queued")
        self._wake.set()

    def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running run; return whether it was still cancellable (its job is killed here;
        on another instance, at that runner's next lease renewal)."""
        cancelled = self.store.cancel(run_id)
        self._queued = self.store.queued_count()
        with self._lock:
            if run_id in self._runs:
                self.pool.kill(run_id)
                self._runs.pop(run_id, None)
                self._ended.pop(run_id, None)
        return cancelled

    def check_alive(self) -> None:
        """Raise unless the runner's loop is alive, turned lately and reaches its queue (a readiness check)."""
        if not self._thread.is_alive():
            raise RuntimeError("the job runner has stopped")
        started = self._call_started
        if started is not None and time.monotonic() - started > self.queue_deadline:
            raise RuntimeError(f"the job runner's queue (the database) has not answered for "
                               f"{time.monotonic() - started:.0f} s")  # fmt: skip
        if self._queue_error is not None:
            raise RuntimeError(f"the job runner cannot reach its queue: {self._queue_error}")
        if time.monotonic() - self._last_turn > 30:
            raise RuntimeError(f"the job runner has not turned for {time.monotonic() - self._last_turn:.0f} s")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._turn()
            except Exception as error:  # a store outage must not end the runner; retry after a pause
                self._queue_error = f"{type(error).__name__}: {error}"[:300]
                log.exception("job runner turn failed; retrying in 1 s")
                self._stop.wait(1.0)

    def _turn(self) -> None:
        self._last_turn = time.monotonic()
        self.heartbeat()
        self.pool.fill()  # outside the lock: the first start waits for the forkserver, /status must not
        with self._lock:
            self._collect()
        with self._calling():  # idle workers get their next job first: they compute while we record the last
            self._claim()
        self._store_artifacts()  # the object store's time is not the queue's (check_alive times the queue)
        with self._calling():
            self._record_ended()
            self._renew()
        with self._lock:
            waitables = self.pool.waitables()
        wait(waitables, timeout=0.2 if self._runs else 0.5)
        if self._wake.is_set():
            self._wake.clear()
        with self._lock:
            self._collect()

    @contextmanager
    def _calling(self) -> Iterator[None]:
        """Mark a database call under way (check_alive reports one that hangs); clear the error once one works."""
        self._call_started = time.monotonic()
        try:
            yield
        finally:
            self._call_started = None
        self._queue_error = None

    def _collect(self) -> None:
        for run_id, outcome in self.pool.collect():
            if run_id in self._runs:
                self._ended[run_id] = outcome

    def _renew(self) -> None:
        """Every third of a lease: extend ours, stop jobs whose runs are no longer ours, requeue expired ones."""
        if time.monotonic() - self._renewed < self.lease_seconds / 3:
            return
        with self._lock:
            mine = list(self._runs)
        held = self.store.renew(self.holder, mine, lease_seconds=self.lease_seconds)
        self._renewed = time.monotonic()
        with self._lock:
            for run_id in set(mine) - held:  # cancelled elsewhere, or taken back after our lease ran out
                self.pool.kill(run_id)
                self._runs.pop(run_id, None)
                self._ended.pop(run_id, None)
        requeued = self.store.requeue_expired()
        if requeued:
            log.warning("leases expired: %d runs back in the queue (%s)", len(requeued), ", ".join(requeued))

    def _claim(self) -> None:
        """Give a queued run to every idle worker, claiming them first (all in one statement)."""
        with self._lock:
            idle = self.pool.idle_workers()
        if self._stop.is_set():
            return
        runs = self.store.claim_many(self.holder, len(idle), lease_seconds=self.lease_seconds) if idle else []
        with self._lock:
            for worker, run in zip(idle, runs, strict=False):
                self._runs[run.id] = run
                try:
                    self.pool.give(worker, run.id, run.kind, run.request)
                except OSError as error:  # the worker died meanwhile: this run fails, the runner goes on
                    self._ended[run.id] = ("error", f"could not start the job: {type(error).__name__}: {error}")
        # fewer runs than idle workers: the database just said nothing else waits, no need to count
        self._queued = 0 if len(runs) < len(idle) else self.store.queued_count()

    def _record_ended(self) -> None:
        with self._lock:
            ended = list(self._ended.items())
        for run_id, outcome in ended:
            if outcome[0] == "ok" and "report_key" not in outcome[1]:
                continue  # its artifacts are written first (next turn)
            run = self._runs.get(run_id)
            if run is not None:
                self._record(run, outcome)
            with self._lock:  # recorded (or no longer ours): only now does memory let go of it
                self._ended.pop(run_id, None)
                self._runs.pop(run_id, None)

    def _store_artifacts(self) -> None:
        """Write the report and table of every job that ended well to the object store, once; a run whose
        artifacts cannot be stored fails."""
        with self._lock:
            ended = [(run_id, o) for run_id, o in self._ended.items() if o[0] == "ok" and "report_key" not in o[1]]
        for run_id, (_, payload) in ended:
            kept = {k: v for k, v in payload.items() if k not in ("report_html", "table_csv")}  # memory lets go
            try:
                stored: Outcome = ("ok", kept | {"report_key": self._save_artifacts(run_id, payload)})
            except Exception as error:  # noqa: BLE001 - the object store failed: the run fails, the runner goes on
                stored = ("error", f"results could not be stored: {type(error).__name__}: {error}")
            with self._lock:
                if run_id in self._ended:
                    self._ended[run_id] = stored

    def _record(self, run: Run, outcome: Outcome) -> None:
        """Record how `run` ended in one conditional update (we claimed it: its start is known, nothing is read
        back); then count and announce it."""
        status, payload = outcome
        ended = ended_since(run.started_at)
        if status == "ok":
            values = {
                "result": payload["result"],
                "metrics": payload["metrics"],
                "verdict": payload["verdict"],
                "data_fingerprint": payload["fingerprint"],
                "engine_version": ENGINE_VERSION,
                "report_key": payload["report_key"],
            }
            recorded = self.store.finish(run.id, **values, held_by=self.holder, ended=ended)
            finished = replace(run, status=DONE, **values, **ended) if recorded else None
        else:
            error = self._public(str(payload))
            recorded = self.store.fail(run.id, error, held_by=self.holder, ended=ended)
            finished = replace(run, status=FAILED, error=error, **ended) if recorded else None
        if finished is None:
            return  # cancelled, or taken back by another runner meanwhile: nothing to store or announce
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
            self._keep_asset()
            key = f"runs/{run_id}/report.html"
            self.objects.put(key, payload["report_html"].encode(), "text/html")
            return key
        return None

    def _keep_asset(self) -> None:
        """Put the plotly bundle our reports load into the object store once, so the backtester still serves it
        to these reports after an upgrade has changed the bundle (and its hash)."""
        if self._asset_kept:
            return
        from tradeops.reports.embed import plotly_asset

        name, data = plotly_asset()
        if f"{ASSETS_PREFIX}{name}" not in self.objects.keys(f"{ASSETS_PREFIX}{name}"):
            self.objects.put(f"{ASSETS_PREFIX}{name}", data, "text/javascript")
        self._asset_kept = True
