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
from typing import TypeVar

from tradeops.errors import TradeopsError

WATCHDOG_SECONDS = 0.5  # how often a worker looks at its parent's pid
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
T = TypeVar("T")


class WorkerDied(TradeopsError):
    """A worker process of a pool ended abruptly (killed, or out of memory); its work is lost."""


def die_with_parent(parent: int) -> None:
    """Make this process end when `parent` does (run first in each worker, with the parent's pid)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent went before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(1)  # no cleanup: the pipes and locks it would wait on belong to a dead process


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
