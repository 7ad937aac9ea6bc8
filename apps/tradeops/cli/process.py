"""The end of a command's process: its exit code, without the interpreter's teardown when nothing else runs.

Tearing down the ~1,300 modules an engine command imports takes about half a second after the work is
done (measured on `tradeops gate`: 1.63 s -> 1.15 s). When the main thread is the only one left, the
exit handlers have run (`atexit`: logging, multiprocessing's children) and the streams are flushed,
nothing is left to do but free memory the OS frees anyway, so the process ends with `os._exit`. With
any other thread alive (a server, a pool) the interpreter exits the ordinary way and joins them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn


def exit_code(code: object) -> int:
    """`SystemExit.code` as a process exit code: None is 0, an int itself, anything else is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run(entry: Callable[[], None]) -> NoReturn:
    """Run `entry`, then end the process with its exit code (fast when only the main thread is left)."""
    try:
        entry()
        code = 0
    except SystemExit as done:
        code = exit_code(done.code)
    if threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()  # what the interpreter runs at exit (logging.shutdown, multiprocessing, ...)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that closed the pipe (`| head`) took what it wanted
            stream.flush()
    os._exit(code)
