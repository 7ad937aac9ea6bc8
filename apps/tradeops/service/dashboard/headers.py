"""Security headers of every dashboard response, and the per-response nonce its inline scripts carry.

The policy allows scripts only from this service (the bundled plotly) and inline scripts bearing the
response's nonce; no eval, no event-handler attributes, no plugins, no framing, forms posting only
here. Styles may be inline because plotly sets element styles as it draws.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NONCE: ContextVar[str] = ContextVar("csp_nonce", default="")
POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Pure-ASGI middleware: X-Frame-Options, a nonce-based CSP and friends on every /ui response."""

    def __init__(self, app: ASGIApp, prefix: str = "/ui") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        NONCE.set(nonce)  # the route runs in this context (a copy of it, in a worker thread)
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Frame-Options"] = "DENY"
                headers["Content-Security-Policy"] = POLICY.format(nonce=nonce)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if secure:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, with_headers)
