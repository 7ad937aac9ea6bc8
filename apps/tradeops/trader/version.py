"""Every replica, one version: the trader trades only while it runs the release its stack records as running.

Knight Capital lost $440M in 45 minutes (2012) because one of eight servers still ran old code that
read a reused flag differently. Here a trader process compares its own version (`TRADEOPS_GIT_SHA`,
the release version the deploy sets) with the stack's current release in the release store
(`releases/<stack>/`, the newest succeeded deploy). While they differ it processes no bar: the
feed waits, the ledger stays at the end of a whole bar, and the first bar after they match again is
processed as a restart's catch-up would be. A release store it cannot read counts as a mismatch
(correctness of money ranks above availability). Each change between trading and refusing is
audited and shown in the service's /status (`version_guard`).

A new version's pod starts during the deploy's `up`, before its release is recorded (after
`verify`), so it waits until the deploy succeeds; readiness does not depend on it, so the deploy's
verify step is not blocked by the wait it causes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tradeops.data.bars import Bars
from tradeops.trader.feed import Feed

RECHECK_SECONDS = 60.0


class VersionGuard:
    """Compare this process's version with the stack's running release, at most once per `recheck_seconds`."""

    def __init__(
        self,
        own: str,
        running: Callable[[], str | None],
        *,
        stack: str,
        on_change: Callable[[str | None], None] | None = None,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.own, self.running, self.stack = own, running, stack
        self.on_change = on_change or (lambda _refusal: None)
        self.recheck_seconds, self.clock = recheck_seconds, clock
        self.refusal: str | None = None
        self.release: str | None = None
        self._checked_at: float | None = None

    def check(self) -> str | None:
        """Why this process must not trade now, or None when it runs the stack's release."""
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.recheck_seconds:
            return self.refusal
        self._checked_at = now
        try:
            self.release = self.running()
        except Exception as error:  # noqa: BLE001 - any failure to read the store is a refusal, named
            refusal: str | None = f"cannot read the release store of stack {self.stack!r}: {type(error).__name__}"
        else:
            if self.release is None:
                refusal = f"stack {self.stack!r} records no running release yet; this process runs {self.own}"
            elif self.release != self.own:
                refusal = f"this process runs {self.own} but stack {self.stack!r} records {self.release} as running"
            else:
                refusal = None
        if refusal != self.refusal:
            try:
                self.on_change(refusal)  # first: a change whose audit failed is seen (and audited) again next time
            except BaseException:
                self._checked_at = None  # and not cached: the next call checks again instead of trusting the old
                raise
            self.refusal = refusal
        return refusal

    def state(self) -> dict[str, Any]:
        return {"own": self.own, "running": self.release, "stack": self.stack, "refusal": self.refusal}


class GuardedFeed:
    """A feed that yields bars only while the guard lets the process trade (it waits, polling, otherwise)."""

    def __init__(self, feed: Feed, guard: VersionGuard, *, stop: threading.Event, poll_seconds: float = 5.0) -> None:
        self.feed, self.guard, self.stop, self.poll_seconds = feed, guard, stop, poll_seconds
        self.name = feed.name

    def updates(self, after: int) -> Iterator[Bars]:
        """The feed's bars one new bar at a time, each only once the guard lets this process trade it (an update
        with many new bars, e.g. a catch-up, is checked bar by bar)."""
        last = after
        for bars in self.feed.updates(after):
            for t in range(last + 1, bars.n_bars):
                while self.guard.check() is not None:
                    if self.stop.wait(self.poll_seconds):
                        return
                yield bars if t == bars.n_bars - 1 else bars.slice(0, t + 1)
                last = t
