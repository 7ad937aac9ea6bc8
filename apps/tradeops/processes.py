"""Worker processes that die with their parent: the pool sweeps and `backtest optimize` run their workers in.

A parent killed with SIGKILL runs no cleanup, and a worker blocked on the pool's result pipe or its
lock (which every worker holds both ends of) waits forever. So each worker, first thing, asks the
kernel for SIGKILL when its parent goes (Linux `PR_SET_PDEATHSIG`), checks the parent did not go
already, and starts a watchdog thread that exits the process once its parent pid changes (the
portable fallback, and a second line should the signal be lost): whatever a worker is blocked on,
it is gone within WATCHDOG_SECONDS of its parent.

This module imports only the standard library: a spawned worker unpickles the initializer before
anything else, so the check runs before the heavy imports of the first task.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

from tradeops.errors import TradeopsError

WATCHDOG_SECONDS = 0.5  # how often a worker looks at its parent's pid
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
T = TypeVar("T")


class WorkerDied(TradeopsError):
    """A worker process of a pool ended abruptly (killed, or out of memory); its work is lost."""


def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat): a pid reused by another process differs."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def die_with_parent(owner: int, *, poll_seconds: float = WATCHDOG_SECONDS) -> None:
    """Make this process end (SIGKILL, no cleanup) once `owner` does; run it first in each worker.

    `owner` is the process the worker works for: the direct parent of a spawned pool's worker, or the
    service whose forkserver forked it (the parent-death signal then follows the forkserver, so the
    watchdog is what ties the worker to the service). The watchdog compares the owner's start time, so
    a reused pid is no owner.
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    born = _start_time(owner)
    if born is None and Path("/proc").is_dir():  # the owner went before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=_watch, args=(owner, born, poll_seconds), name="owner-watchdog", daemon=True).start()


def _watch(owner: int, born: str | None, poll_seconds: float) -> None:
    def alive() -> bool:
        if born is None:  # no /proc: the parent pid is all there is to watch
            return os.getppid() == owner
        return os.getppid() != 1 and _start_time(owner) == born

    while alive():
        time.sleep(poll_seconds)
    os.kill(os.getpid(), signal.SIGKILL)  # the pipes and locks it would wait on belong to a dead process


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` fresh interpreters (spawned, as a pod starts one) that die with this process."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def results(futures: list[Future[T]], what: str) -> Iterator[T]:
    """Yield each future's result in order; a worker that died is a WorkerDied naming `what` it ran."""
    for future in futures:
        try:
            yield future.result()
        except BrokenProcessPool:
            raise WorkerDied(f"a worker process running {what} ended abruptly (killed, or out of memory)") from None
