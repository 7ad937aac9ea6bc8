"""The serial twin of a `parallel=True` numba function: the same source compiled without threads.

One backtest has one point and a couple of indicator columns: `prange` over them gains nothing, yet a
parallel function wakes numba's thread pool on every call (a 600-bar backtest took 31.8 ms on the
default threads against 2.7 ms on one thread, issue 27). Callers pick the twin for such small work.
The twin is a copy of the function under its own name, so numba caches the two compiles apart (its
cache files are named after the function, and its index does not tell parallel from serial).
"""

from __future__ import annotations

import types
from typing import Any

from numba import njit


def serial_twin(parallel: Any, name: str) -> Any:
    """`parallel` (a numba dispatcher made with parallel=True) compiled again without threads, as `name`."""
    source = getattr(parallel, "py_func", parallel)  # a plain function under NUMBA_DISABLE_JIT
    twin = types.FunctionType(source.__code__, source.__globals__, name, source.__defaults__, source.__closure__)
    twin.__qualname__ = name
    twin.__doc__ = f"`{source.__name__}` without threads (prange runs as range): for one point or a few columns."
    return njit(cache=True)(twin)
