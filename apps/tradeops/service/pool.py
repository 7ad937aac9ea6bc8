"""Warm worker processes: each loads the compiled engine once, then runs one job at a time.

A fresh process per job paid the engine's load (about 1 s) on every job; a worker here pays it when it starts
and is reused until it has run `max_jobs` jobs or its memory passed `max_memory_mib`, then replaced. A job that
is cancelled or runs past its deadline is stopped by killing its worker (SIGKILL: the engine cannot be
interrupted in its compiled loop); a new worker takes its place. Workers are forked from a forkserver that
never ran the engine (numba's OpenMP layer does not survive a fork of a process that used it) and die with the
service (`tradeops.processes.die_with_parent`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from tradeops.service.worker import ObjectsLocation, serve

Outcome = tuple[str, Any]  # ("ok", output) | ("error", message)


@dataclass
class Worker:
    """One warm process, and the job it is running (if any)."""

    process: BaseProcess
    connection: Connection
    ready: bool = False
    jobs: int = 0
    run_id: str | None = None
    deadline: float = 0.0
    peak_mib: float = 0.0

    def view(self) -> dict[str, Any]:
        return {"pid": self.process.pid, "ready": self.ready, "jobs": self.jobs, "run_id": self.run_id}


class WarmPool:
    """`size` warm workers; `give` a job to an idle one, `collect` what they answered (and what died)."""

    def __init__(
        self,
        size: int,
        *,
        timeout_seconds: float,
        max_jobs: int,
        max_memory_mib: float | None,
        objects_location: ObjectsLocation | None,
    ) -> None:
        self.size, self.timeout, self.max_jobs, self.max_memory_mib = size, timeout_seconds, max_jobs, max_memory_mib
        self.objects_location = objects_location
        self.workers: list[Worker] = []
        self.started = 0  # workers started over the pool's life (a recycled or killed one counts again)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["tradeops.service.worker"])

    def fill(self) -> None:
        """Start workers until there are `size` (they become ready in the background)."""
        while len(self.workers) < self.size:
            parent, child = self._context.Pipe(duplex=True)
            process = self._context.Process(
                target=serve, args=(child, os.getpid(), self.objects_location), name="tradeops-worker", daemon=True
            )
            process.start()
            child.close()
            self.workers.append(Worker(process, parent))
            self.started += 1

    def idle_workers(self) -> list[Worker]:
        """The ready workers without a job."""
        return [w for w in self.workers if w.ready and w.run_id is None]

    def busy(self) -> dict[str, Worker]:
        return {w.run_id: w for w in self.workers if w.run_id is not None}

    def give(self, worker: Worker, run_id: str, kind: str, request: dict[str, Any]) -> None:
        """Start one job on `worker` (idle and ready); its deadline starts now."""
        worker.connection.send((kind, request))
        worker.run_id, worker.deadline = run_id, time.monotonic() + self.timeout

    def waitables(self) -> list[Any]:
        return [w.connection for w in self.workers] + [w.process.sentinel for w in self.workers]

    def collect(self) -> list[tuple[str, Outcome]]:
        """The jobs that ended since the last call (answered, timed out, or their worker died), by run id."""
        ended: list[tuple[str, Outcome]] = []
        for worker in list(self.workers):
            answered = self._answer(worker)
            if answered is not None:  # the worker finished its job and is free again
                ended.append((str(worker.run_id), answered))
                worker.run_id, worker.jobs = None, worker.jobs + 1
                if self._worn(worker):
                    self._retire(worker)
                continue
            if worker.process.is_alive():
                if worker.run_id is None or time.monotonic() < worker.deadline:
                    continue
                ended.append((worker.run_id, ("error", f"timed out after {self.timeout:g} s")))
            elif worker.run_id is not None:
                worker.process.join(1)
                ended.append((worker.run_id, ("error", f"worker crashed (exit code {worker.process.exitcode})")))
            worker.run_id = None
            self._retire(worker)
        return ended

    def _answer(self, worker: Worker) -> Outcome | None:
        """The answer to `worker`'s job, if it gave one now (a "ready" is noted, an unreadable answer is an error)."""
        if not worker.connection.poll():
            return None
        try:
            message = worker.connection.recv()
        except EOFError:
            return None  # it died: `collect` sees that from the process
        except Exception as error:  # noqa: BLE001 - an unreadable answer fails the job, not the runner
            return "error", f"worker answer unreadable: {type(error).__name__}: {error}"
        if message[0] == "ready":
            worker.ready = True
            return None
        status, payload, worker.peak_mib = message
        return status, payload

    def _worn(self, worker: Worker) -> bool:
        over_memory = self.max_memory_mib is not None and worker.peak_mib > self.max_memory_mib
        return worker.jobs >= self.max_jobs or over_memory

    def _retire(self, worker: Worker) -> None:
        """Stop `worker` (it is replaced by the next `fill`)."""
        worker.process.kill()
        worker.process.join(5)
        worker.connection.close()
        self.workers.remove(worker)

    def kill(self, run_id: str) -> bool:
        """Stop the job `run_id` by killing its worker; whether it was running here."""
        worker = self.busy().get(run_id)
        if worker is None:
            return False
        worker.run_id = None
        self._retire(worker)
        return True

    def stop(self) -> None:
        for worker in list(self.workers):
            self._retire(worker)

    def view(self) -> list[dict[str, Any]]:
        return [w.view() for w in self.workers]
