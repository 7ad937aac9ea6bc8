"""Backtests, sweeps and gate verdicts on the backtester API, with progress while they run and a DELETE on cancel.

The API validates and caps every request (grid size, queue limit); this client sends the request
models the API publishes, polls `GET /v1/{kind}/{id}` until the run ends, reports each poll as an MCP
progress notification, and when the caller cancels it cancels the run on the backtester too (the
worker process is killed), so a cancelled sweep stops using the cluster.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from pydantic import BaseModel

from tradeops.errors import TradeopsError
from tradeops.slackbot.backtest import answer

Progress = Callable[[float, float | None, str], Awaitable[None]]
PATHS = {"backtest": "backtests", "sweep": "sweeps", "gate": "gate"}
CREATE_ATTEMPTS = 3  # a POST that creates a run is sent at most this often, always with the same key
RETRY_PAUSE_SECONDS = 1.0
FINAL = ("done", "failed", "cancelled")


class BacktesterCalls:
    """Submit a request model to the API, wait for the run, cancel it if the wait is cancelled."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_seconds: float,
        poll_seconds: float = 0.25,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=10.0, transport=transport)
        self.url, self.timeout_seconds, self.poll_seconds = url, timeout_seconds, poll_seconds

    async def run(self, kind: str, body: BaseModel, progress: Progress) -> dict[str, Any]:
        """The finished run (the API's RunView); a TradeopsError when it does not finish in time."""
        path = PATHS[kind]
        accepted = await self._create(f"/v1/{path}", body.model_dump(mode="json"))
        started = time.monotonic()
        polls = 0
        try:
            while True:
                run = await self._call("GET", accepted["url"])
                if run["status"] in FINAL:
                    await progress(polls + 1, polls + 1, f"{kind} {run['id']} {run['status']}")
                    return run
                elapsed = time.monotonic() - started
                if elapsed > self.timeout_seconds:
                    raise TradeopsError(f"{kind} {run['id']} still {run['status']} after {self.timeout_seconds:g} s")
                polls += 1
                await progress(polls, None, f"{kind} {run['id']} {run['status']} for {elapsed:.0f} s")
                await anyio.sleep(self.poll_seconds)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await self._http.delete(accepted["url"])  # a 409 (already finished) is fine
            raise

    async def _create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with one Idempotency-Key, sent again (same key) after a lost connection or a 503: one run."""
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                response = await self._http.post(path, json=body, headers=headers)
            except httpx.HTTPError as error:
                if attempt == CREATE_ATTEMPTS:
                    raise self._unreachable(error) from None
            else:
                if response.status_code != 503 or attempt == CREATE_ATTEMPTS:
                    return answer(response)
            await anyio.sleep(RETRY_PAUSE_SECONDS * attempt)
        raise AssertionError("unreachable")

    async def get(self, path: str) -> dict[str, Any]:
        return await self._call("GET", path)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        return answer(response)

    def _unreachable(self, error: httpx.HTTPError) -> TradeopsError:
        """What failed, where, and the command that starts the backtester there."""
        port = urlsplit(self.url).port
        start = f"tradeops serve backtester{f' --port {port}' if port else ''}"
        return TradeopsError(
            f"backtester unreachable at {self.url} ({type(error).__name__}): start it with `{start}`, or unset "
            "TRADEOPS_BACKTESTER_URL to run backtests in this process"
        )

    async def aclose(self) -> None:
        await self._http.aclose()
