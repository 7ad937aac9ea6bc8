"""The trading loop's database connection: one kept from bar to bar while the bars come back to back.

A bar is one transaction. Checking a connection out of the pool and back in costs about as much as
the bar's statements (on PostgreSQL also a pre-ping round trip), so while `Trader.run` replays or
catches up, its bars share one connection, one transaction each: nothing of a bar is held open past
its commit. The connection is given back, and the next bar checks one out afresh (pre-pinged), when a
bar comes more than `idle_seconds` after the last (a wait for a live bar: the server may have closed
an idle connection meanwhile), when the engine's pool was replaced (`Engine.dispose`, as the readiness
check does when the SQLite file was replaced under the process), after a failed bar, and when the run
ends. Outside `holding` (a bar stepped on its own) every bar checks out its own connection.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

IDLE_SECONDS = 1.0


class BarConnections:
    """Gives each bar its transaction, on the connection the bar before used when it may."""

    def __init__(
        self, engine: Engine, *, idle_seconds: float = IDLE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine, self.idle_seconds, self.clock = engine, idle_seconds, clock
        self._holding = False
        self._held: Connection | None = None
        self._pool: Pool | None = None  # the pool the held connection came from
        self._last = 0.0  # when the held connection's last transaction ended

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Keep a connection between the bars of this block (a run); give it back at the end."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            self.release()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One bar's transaction: committed when the block ends, rolled back when it raises."""
        if not self._holding:
            with self.engine.begin() as connection:
                yield connection
            return
        connection = self._connection()
        try:
            with connection.begin():
                yield connection
        except BaseException:
            self.release()  # the next bar starts on a fresh connection
            raise
        self._last = self.clock()

    def release(self) -> None:
        """Give the held connection back to the pool (if any)."""
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def _connection(self) -> Connection:
        stale = self.engine.pool is not self._pool or self.clock() - self._last > self.idle_seconds
        if self._held is not None and stale:
            self.release()
        if self._held is None:
            self._pool = self.engine.pool
            self._held = self.engine.connect()
        return self._held
