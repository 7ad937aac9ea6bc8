"""Every tool call: who calls (bearer token over HTTP, the configured principal over stdio), the rate limit,
and our errors turned into tool errors the assistant can read (one line, never a traceback)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from tradeops.assistant.access import AccessError
from tradeops.assistant.desk import AssistantDesk
from tradeops.errors import TradeopsError

PRINCIPAL_KEY = "tradeops.principal"  # where the HTTP auth middleware leaves the principal in the ASGI scope
P = ParamSpec("P")
R = TypeVar("R")


def principal_of(ctx: Context, stdio_principal: str | None) -> str:
    """The caller: from the HTTP request's scope, else (stdio, no request) the configured local principal."""
    request = ctx.request_context.request
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        principal = scope.get(PRINCIPAL_KEY)
        if isinstance(principal, str):
            return principal
        raise AccessError("unauthenticated request: send Authorization: Bearer <token>")
    if stdio_principal is None:
        raise AccessError("no principal for this transport")
    return stdio_principal


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn a TradeopsError (bad input, refused, unreachable dependency) into a ToolError with its message."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except TradeopsError as error:
            raise ToolError(str(error)) from None

    return run


class Guarded:
    """Base of the tool sets: the desk, and `caller(ctx)` to name and rate-limit the principal."""

    def __init__(self, desk: AssistantDesk, stdio_principal: str | None) -> None:
        self.desk, self.stdio_principal = desk, stdio_principal

    def caller(self, ctx: Context) -> str:
        principal = principal_of(ctx, self.stdio_principal)
        self.desk.limiter.check(principal)
        return principal
