"""Slow down token guessing: after N wrong tokens in a minute from one client, or M from everyone, answer 429.

One `FailureThrottle` per process counts wrong bearer tokens (API, trader) and wrong dashboard logins
together. While a client (or the service, past the total) is throttled no attempt is checked at all,
a right token included, so guessing gains nothing; `Retry-After` says when the oldest counted failure
leaves the window. Counts live in memory: with R replicas a client gets at most R x N checks a minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi.responses import JSONResponse

from tradeops.settings import AppSettings

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000  # clients remembered; the oldest is forgotten first (the total still counts it)


class FailureThrottle:
    """Wrong-token counts per client and in total over a sliding minute."""

    def __init__(self, per_client: int, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_client, self.total, self.clock = per_client, total, clock
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: AppSettings) -> FailureThrottle:
        return cls(settings.auth_failures_per_minute, settings.auth_failures_per_minute_total)

    def retry_after(self, client: str) -> int | None:
        """Seconds before `client` may try a token again, or None when it may now."""
        with self._lock:
            now = self.clock()
            waits = [
                _wait(times, limit, now)
                for times, limit in ((self._clients.get(client), self.per_client), (self._all, self.total))
            ]
        longest = max((w for w in waits if w is not None), default=None)
        return None if longest is None else max(1, math.ceil(longest))

    def failed(self, client: str) -> None:
        """Count one wrong token from `client`."""
        with self._lock:
            now = self.clock()
            self._all.append(now)
            times = self._clients.pop(client, None) or deque()
            times.append(now)
            self._clients[client] = times  # most recent last
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)

    def refusal(self, client: str) -> JSONResponse | None:
        """The 429 `client` gets now, or None."""
        wait = self.retry_after(client)
        if wait is None:
            return None
        detail = f"too many wrong tokens; try again in {wait} s"
        return JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": str(wait)})


def _wait(times: deque[float] | None, limit: int, now: float) -> float | None:
    if times is None:
        return None
    while times and times[0] <= now - WINDOW_SECONDS:
        times.popleft()
    return times[0] + WINDOW_SECONDS - now if len(times) >= limit else None
