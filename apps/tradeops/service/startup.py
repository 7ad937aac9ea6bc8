"""Run a service under uvicorn so that a failed start is one line and exit 2, like every other command.

Uvicorn logs a failed lifespan start as a traceback and exits 3. `serve` instead records the error
the app's start-up raised, keeps uvicorn's start-up chatter and traceback off stderr, and raises the
error as one `TradeopsError` for `main()` (docs/README.md: exit codes).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeops.errors import TradeopsError, database_failure

QUIET_WHILE_STARTING = ("Started server process", "Waiting for application startup", "Application startup failed")


class StartupWatch:
    """ASGI wrapper that remembers why the lifespan start failed instead of letting uvicorn print it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.started = app, False
        self.error: Exception | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def quiet_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                message = {"type": message["type"], "message": ""}  # the traceback text: not for stderr
            self.started = self.started or message["type"] == "lifespan.startup.complete"
            await send(message)

        try:
            await self.app(scope, receive, quiet_send)
        except Exception as error:
            if self.started:
                raise
            self.error = error

    def filter(self, record: logging.LogRecord) -> bool:
        """A logging filter: uvicorn's lines about starting are dropped until the start succeeded."""
        return self.started or not record.getMessage().startswith(QUIET_WHILE_STARTING)


def run_service(name: str, app: ASGIApp, **options: Any) -> None:
    """Serve `app` until stopped; a start that fails raises one TradeopsError naming the cause."""
    import uvicorn

    watch = StartupWatch(app)
    server = uvicorn.Server(uvicorn.Config(watch, **options))
    logging.getLogger("uvicorn.error").addFilter(watch.filter)
    try:
        server.run()
    except SystemExit:
        if watch.error is None:
            raise
    if watch.error is not None:
        raise TradeopsError(f"{name} could not start: {reason(watch.error)}") from None


def reason(error: BaseException) -> str:
    """One line: what failed, pointing at the setting to check for a database."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, SQLAlchemyError):
        return database_failure(error)
    cause = str(error).strip().splitlines()
    first = cause[0] if cause else type(error).__name__
    return first if isinstance(error, TradeopsError) else f"{type(error).__name__}: {first}"
