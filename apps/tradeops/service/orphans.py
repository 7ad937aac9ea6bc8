"""Worker processes that end with the process that started them, however it ends (kill -9 included).

Two layers, because either alone has a gap: the kernel's parent-death signal (Linux `prctl(PR_SET_PDEATHSIG)`)
fires when the process that forked us exits -- with a forkserver that is the server, not the service -- and a
watchdog thread that polls the service's pid catches the rest (and works where prctl does not exist).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat): a pid reused by another process differs."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def die_with_parent(service_pid: int, *, poll_seconds: float = 1.0) -> None:
    """End this process (SIGKILL, no cleanup: a worker holds nothing to flush) once `service_pid` is gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    born = _start_time(service_pid)

    def watch() -> None:
        while True:
            if os.getppid() == 1 or _start_time(service_pid) != born:
                os.kill(os.getpid(), signal.SIGKILL)
            threading.Event().wait(poll_seconds)

    if born is None:  # the service is already gone (or /proc is missing): nothing to wait for
        if not Path("/proc").is_dir():
            return
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=watch, name="orphan-watchdog", daemon=True).start()
