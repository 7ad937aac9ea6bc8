"""What every tradeops API does before a route runs, and the answer it owes whatever happens after.

In order, for each HTTP request, before a byte of the body is read:
1. a declared body (`Content-Length`) larger than `max_body_bytes` gets 413; a streamed one is cut off at the
   limit by FastAPI's own `max_body_size` (also 413);
2. a route that needs the bearer token gets 401 without it (authentication before parsing), and 429 with
   Retry-After once the client (or everyone) sent too many wrong tokens this minute (service/throttle.py);
   the client is the peer, or what a proxy in `trusted_proxies` put in X-Forwarded-For;
3. the route gets `request_timeout_seconds`; past that the client gets 503 (the work may still finish), so a
   stuck dependency can delay an answer but never withhold it;
4. within that deadline a JSON body, or a form's JSON value (Slack's `payload=`), nested deeper than
   `max_json_depth` gets 400 before any parser sees it (service/depth.py).
Validation errors (422) quote at most a short excerpt of the input, never the input itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradeops.service.auth import BearerAuth
from tradeops.service.depth import body_depth, may_nest
from tradeops.service.throttle import FailureThrottle
from tradeops.settings import AppSettings

NeedsToken = Callable[[str, str], bool]  # (method, path) -> the route needs the bearer token
EXCERPT_CHARS = 80
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GUARD_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many wrong tokens from this client (or in total) this minute; see Retry-After"},
    400: {"description": "the body could not be read or parsed"},
    413: {"description": "the body is larger than the configured limit (max_body_bytes)"},
    503: {"description": "a dependency (the database) did not answer in time; retry later"},
}


def mutating_under(prefix: str, *also_read: str) -> NeedsToken:
    """Every non-GET call under `prefix` needs the token, and the reads of the paths in `also_read`."""
    return lambda method, path: path.startswith(prefix) and (method not in SAFE_METHODS or path in also_read)


def install_guards(app: FastAPI, settings: AppSettings, needs_token: NeedsToken | None = None) -> None:
    """Add the guards to `app`; call it after every other middleware so that they run first."""
    throttle = FailureThrottle.of(settings)
    app.state.auth_throttle = throttle  # the dashboard's login counts its wrong tokens here too
    app.add_middleware(
        RequestGuards,
        throttle=throttle,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        timeout_seconds=settings.request_timeout_seconds,
        auth=BearerAuth(settings),
        needs_token=needs_token or (lambda _method, _path: False),
    )
    proxies = [host.strip() for host in settings.trusted_proxies.split(",") if host.strip()]
    if proxies:  # outermost: every guard and route sees the forwarded client and scheme
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    _document_guard_responses(app)


def _document_guard_responses(app: FastAPI) -> None:
    """The OpenAPI document lists what the guards may answer: 400 and 413 where a body is taken, 429 where a
    token is, 503 on /v1."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()
        for path, operations in schema.get("paths", {}).items() if fresh else ():
            for operation in operations.values():
                codes = [400, 413] if "requestBody" in operation else []
                codes += ([429] if "security" in operation else []) + ([503] if path.startswith("/v1/") else [])
                for code in codes:
                    operation.setdefault("responses", {}).setdefault(str(code), GUARD_RESPONSES[code])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class RequestGuards:
    """The pure-ASGI middleware doing steps 1 to 3 (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_json_depth: int,
        timeout_seconds: float,
        auth: BearerAuth,
        throttle: FailureThrottle,
        needs_token: NeedsToken,
    ) -> None:
        self.app, self.max_body_bytes, self.timeout = app, max_body_bytes, timeout_seconds
        self.depth_checked = DepthLimit(app, max_json_depth=max_json_depth, max_body_bytes=max_body_bytes)
        self.auth, self.throttle, self.needs_token = auth, throttle, needs_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._within_deadline(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> JSONResponse | None:
        length = headers.get("content-length", "0").strip()
        if not length.isdigit():
            return JSONResponse({"detail": "Content-Length is not a number"}, status_code=400)
        if int(length) > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        if not self.needs_token(scope["method"], scope["path"]):
            return None
        client = client_of(scope)
        throttled = self.throttle.refusal(client)
        if throttled is not None:
            return throttled
        if self.auth.authenticate(headers.get("authorization")) is None:
            self.throttle.failed(client)
            return JSONResponse(
                {"detail": "missing or wrong bearer token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return None

    async def _within_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = {"started": False, "abandoned": False}

        async def tracked_send(message: Message) -> None:
            if state["abandoned"]:
                return  # the client already has its 503
            state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.depth_checked(scope, receive, tracked_send))
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if task in done:
            task.result()
            return
        state["abandoned"] = True
        task.add_done_callback(_consume)  # a handler blocked in a thread finishes there; its answer is dropped
        task.cancel()
        if not state["started"]:
            await JSONResponse(
                {"detail": f"no answer within {self.timeout:g} s (a dependency is slow or down); retry later"},
                status_code=503,
                headers={"Retry-After": "5"},
            )(scope, receive, send)


class DepthLimit:
    """Pure-ASGI middleware (step 4): a JSON or form body is read whole, bounded by the size limit, refused when
    nested deeper than `max_json_depth`, else replayed to the app."""

    def __init__(self, app: ASGIApp, *, max_json_depth: int, max_body_bytes: int) -> None:
        self.app, self.max_json_depth, self.max_body_bytes = app, max_json_depth, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"content-type"), "")
        if scope["type"] != "http" or not may_nest(content_type):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            size, more = size + len(chunks[-1]), message.get("more_body", False)
            if size > self.max_body_bytes:
                await _too_large(self.max_body_bytes)(scope, receive, send)
                return
        body = b"".join(chunks)
        if body_depth(content_type, body) > self.max_json_depth:
            detail = f"the body's JSON is nested deeper than {self.max_json_depth} levels (TRADEOPS_MAX_JSON_DEPTH)"
            await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def client_of(scope: Scope) -> str:
    """The client's address (a trusted proxy's X-Forwarded-For already applied), or "unknown"."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out `messages` first, then waits on the real one (for the disconnect)."""
    queue = list(messages)

    async def replayed() -> Message:
        return queue.pop(0) if queue else await receive()

    return replayed


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of `value`, saying how long it was when it was cut."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    details = []
    for item in error.errors():
        item = dict(item)  # every part that can quote the input is cut: input, msg (a validator's), ctx, loc
        if "input" in item:
            item["input"] = excerpt(item["input"])
        item["msg"] = excerpt(str(item.get("msg", "")), 2 * EXCERPT_CHARS)
        item["loc"] = [part if isinstance(part, int) else excerpt(str(part)) for part in item.get("loc", ())]
        if isinstance(item.get("ctx"), dict):
            item["ctx"] = {k: excerpt(str(v)) for k, v in item["ctx"].items()}
        details.append(item)
    return JSONResponse({"detail": json.loads(json.dumps(details, default=str))}, status_code=422)


async def _database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
    return JSONResponse(
        {"detail": f"the database did not answer: {type(error).__name__}: {reason}"},
        status_code=503,
        headers={"Retry-After": "5"},
    )
