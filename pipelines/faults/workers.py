"""Worker-pool faults: kill -9 the parent of `backtest sweep --workers 2` and `backtest optimize --workers 2`.

The parent runs in a session of its own, so every process it started (workers, multiprocessing's
resource tracker) is found by session id in /proc after the parent is gone. One unkilled run measures
how long its workers work (from the first one appearing to the end); then the parent is killed when
its first worker appears and at fractions of that time after it (workers starting, importing,
computing, sending results; a point the command outran is tried again earlier), and each kill is followed by
ORPHAN_SECONDS of watching: any process of the session still there then is an orphan (and is killed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ORPHAN_SECONDS = 5.0
RETRIES = 3  # a kill point the command outran is tried again this often, each time earlier
FRACTIONS = (0.15, 0.3, 0.45, 0.6, 0.75, 0.85, 0.95)  # kill points after the first, as parts of a whole run
DATA = "sample:synthetic?bars=2000&seed=3"
SWEEP = ["backtest", "sweep", "-s", "sma_cross", "-d", DATA, "-g", "fast=2:40:1", "-g", "slow=41:100:1"]
OPTIMIZE = ["backtest", "optimize", "-s", "sma_cross", "-d", DATA, "--space", "fast=2:30", "--space", "slow=5:40"]


def session_members(session: int) -> dict[int, str]:
    """Live processes of a session: pid -> its state letter (R running, S sleeping, D in the kernel, T stopped)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[3]) == session and fields[0] not in ("Z", "X"):
            found[int(entry.name)] = fields[0]
    return found


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "tradeops.cli", *args],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# (seconds since the parent started, seconds since its first worker appeared or None before) -> kill now
KillPoint = Callable[[float, float | None], bool]


def _kill_at(args: list[str], env: dict[str, str], when: KillPoint) -> dict[str, Any]:
    """Start the command, SIGKILL its parent once `when` says so, then count what is left after the watch."""
    process = _start(args, env)
    started = time.monotonic()
    working: float | None = None  # when its first worker appeared
    while process.poll() is None:
        now = time.monotonic()
        if working is None and len(session_members(process.pid)) > 1:
            working = now
        if when(now - started, None if working is None else now - working):
            break
        time.sleep(0.01)
    ended = time.monotonic()
    at = round(ended - started, 2)
    worked = round(ended - working, 2) if working is not None else 0.0
    workers = {pid: w for pid, w in session_members(process.pid).items() if pid != process.pid}
    finished = process.poll() is not None
    if not finished:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + ORPHAN_SECONDS
    while session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = session_members(process.pid)
    for pid in orphans:  # leave nothing running, whatever the verdict
        os.kill(pid, signal.SIGKILL)
    children = "".join(sorted(workers.values()))
    return {
        "at_s": at,
        "worked_s": worked,
        "finished_first": finished,
        "children_at_kill": children,
        "orphans": len(orphans),
        "exit": process.returncode,
    }


def parent_kills(args: list[str], folder: Path) -> list[dict[str, Any]]:
    """Kill the parent of `tradeops <args>` at every kill point; one record per point.

    Each run has a data folder of its own under `folder` (an Optuna study starts empty every time).
    """

    def env(run: int) -> dict[str, str]:
        return {"TRADEOPS_DATA_DIR": str(folder / f"run-{run}"), "NUMBA_NUM_THREADS": "1"}

    reference = _kill_at(args, env(0), lambda _elapsed, _working: False)  # runs to its end, unkilled
    if reference["exit"] != 0:
        raise RuntimeError(f"`tradeops {' '.join(args)}` failed unkilled (exit {reference['exit']})")
    whole = reference["worked_s"]  # from its first worker to its end: what the kill points divide

    def first_worker(_elapsed: float, working: float | None) -> bool:
        return working is not None

    def after(seconds: float) -> KillPoint:
        return lambda _elapsed, working: working is not None and working >= seconds

    kills = [_kill_at(args, env(1), first_worker)]
    for run, fraction in enumerate(FRACTIONS, start=2):
        # A loaded machine runs the command faster or slower than the unkilled run did: a run that finished
        # before its kill point proves nothing, so that point is tried again earlier (at most RETRIES times).
        for attempt in range(RETRIES + 1):
            kill = _kill_at(args, env(run * 10 + attempt), after(whole * fraction * 0.6**attempt))
            if not kill["finished_first"]:
                break
        kills.append(kill)
    return kills


def _scenario(name: str, args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        kills = parent_kills(args, Path(folder))
    during = [k for k in kills if not k["finished_first"] and k["children_at_kill"]]
    return {
        "name": name,
        "passed": len(during) >= 7 and sum(k["orphans"] for k in kills) == 0,
        "kills_with_workers_alive": len(during),
        "orphans_after_5s": sum(k["orphans"] for k in kills),
        "kill_points": [f"{k['at_s']}s:{k['children_at_kill'] or '-'}->{k['orphans']}" for k in kills],
    }


def sweep_parent_killed() -> dict[str, Any]:
    """`backtest sweep --workers 2`: no worker outlives its parent by more than 5 s, at any kill point."""
    return _scenario("workers: sweep parent kill -9", [*SWEEP, "--workers", "2", "--json"])


def optimize_parent_killed() -> dict[str, Any]:
    """`backtest optimize --workers 2`: the same pool, the same promise."""
    return _scenario("workers: optimize parent kill -9", [*OPTIMIZE, "--trials", "60", "--workers", "2", "--no-gate"])


def scenarios() -> list[Callable[[], dict[str, Any]]]:
    """The worker-pool fault scenarios, for `make faults`."""
    return [sweep_parent_killed, optimize_parent_killed]
