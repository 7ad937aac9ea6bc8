"""`tradeops serve mcp`: the MCP server over streamable HTTP at `/mcp`, behind bearer tokens, with the health standard.

Every request to `/mcp` must carry `Authorization: Bearer <token>` (after 10 wrong ones a minute from a client,
100 in all, the next get 429; JSON nested deeper than TRADEOPS_MAX_JSON_DEPTH gets 400); the token names the principal
(TRADEOPS_MCP_TOKENS) and the tools see that principal, so permissions, rate limits and the audit log
are per person or agent. `/healthz`, `/readyz`, `/status` and `/metrics` are the other services'.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from tradeops import __version__
from tradeops.assistant.access import Principals
from tradeops.assistant.desk import AssistantDesk, open_desk
from tradeops.assistant.guard import PRINCIPAL_KEY
from tradeops.assistant.server import build_server
from tradeops.service.guards import DepthLimit, client_of
from tradeops.service.health import Health, install_health
from tradeops.service.throttle import FailureThrottle
from tradeops.settings import AppSettings

SERVICE = "mcp"
HEARTBEAT_SECONDS = 5.0
LOCAL_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]


class BearerPrincipal:
    """ASGI guard of the MCP endpoint: 401 without a known token, else the principal goes into the scope."""

    def __init__(self, app: ASGIApp, principals: Principals, requests: Counter, throttle: FailureThrottle) -> None:
        self.app, self.principals, self.requests, self.throttle = app, principals, requests, throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = client_of(scope)
        throttled = self.throttle.refusal(client)
        if throttled is not None:  # too many wrong tokens: none is checked until Retry-After
            self.requests.labels("throttled").inc()
            await throttled(scope, receive, send)
            return
        principal = self.principals.principal(headers.get("authorization"))
        if principal is None:
            self.throttle.failed(client)
            self.requests.labels("unauthorized").inc()
            body = json.dumps({"error": "missing or wrong bearer token"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.requests.labels("authorized").inc()
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)


def create_app(settings: AppSettings) -> FastAPI:
    """Return the ASGI app; a bad token list or a missing one outside local is a ConfigError before serving."""
    desk = open_desk(settings)
    server = build_server(desk, stdio_principal=None)
    open_mode = desk.principals.open_as is not None
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=open_mode,  # an open local server only answers pages served from localhost
        allowed_hosts=LOCAL_HOSTS,
        allowed_origins=[f"http://{h}" for h in LOCAL_HOSTS],
    )
    mcp_app = server.streamable_http_app(streamable_http_path="/mcp", transport_security=security)
    health = Health(service=SERVICE, version=__version__, git_sha=settings.git_sha)
    health.checks = {"database": desk.store.ping, "object_store": desk.objects.ping}
    requests = Counter("tradeops_mcp_requests", "MCP HTTP requests by outcome", ["outcome"], registry=health.registry)
    app = FastAPI(title="tradeops mcp", version=__version__, lifespan=_lifespan(server, desk, health), docs_url=None)
    install_health(app, health)
    bounded = DepthLimit(mcp_app, max_json_depth=settings.max_json_depth, max_body_bytes=settings.max_body_bytes)
    app.mount("/", BearerPrincipal(bounded, desk.principals, requests, FailureThrottle.of(settings)))
    return app


def _lifespan(server: Any, desk: AssistantDesk, health: Health) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        beating = asyncio.create_task(_heartbeat(health))
        try:
            async with server.session_manager.run():
                yield
        finally:
            beating.cancel()
            with suppress(asyncio.CancelledError):
                await beating
            await desk.close()

    return lifespan


async def _heartbeat(health: Health) -> None:
    while True:
        health.heartbeat()
        await asyncio.sleep(HEARTBEAT_SECONDS)
