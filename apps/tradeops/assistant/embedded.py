"""The backtester API inside this process: what `tradeops mcp stdio` runs backtests on when no URL is set.

The same FastAPI app `tradeops serve backtester` serves (its routes, validation, caps, queue and
worker processes), reached through httpx's ASGI transport instead of a socket; it starts on the
first call (a session that never backtests starts no workers) and stops with the client.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import httpx

from tradeops.settings import AppSettings

BASE_URL = "http://backtester.embedded"  # never resolved: requests go to the app in this process


class EmbeddedBacktester(httpx.AsyncBaseTransport):
    """An httpx transport to the backtester app in this process, started on first use."""

    def __init__(self, settings: AppSettings) -> None:
        from tradeops.service.backtester import create_app

        self._app = create_app(settings)
        self._asgi = httpx.ASGITransport(app=self._app)
        self._lifespan: AbstractAsyncContextManager[Any] | None = None
        self._starting = anyio.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._starting:
            if self._lifespan is None:
                lifespan = self._app.router.lifespan_context(self._app)
                await lifespan.__aenter__()  # opens the stores, starts the runner and its workers
                self._lifespan = lifespan
        return await self._asgi.handle_async_request(request)

    async def aclose(self) -> None:
        if self._lifespan is not None:
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.__aexit__(None, None, None)  # stops the runner, its workers and the stores
        await self._asgi.aclose()
