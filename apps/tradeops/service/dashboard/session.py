"""The dashboard's login: the API token logs a browser in once; then a signed, HttpOnly, SameSite cookie.

The cookie holds the principal, a CSRF token and an expiry, signed with HMAC-SHA256 under a key
derived from the API token (a random per-process key when the API runs without one, in local
mode). Every state-changing form carries the CSRF token; it must equal the session's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request

from tradeops.settings import AppSettings

COOKIE = "tradeops_session"
LIFETIME_SECONDS = 12 * 3600
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class Login:
    """Who is logged in, and the CSRF token their forms must carry."""

    principal: str
    csrf: str
    expires: float


class Sessions:
    """Issue and check session cookies."""

    def __init__(self, settings: AppSettings) -> None:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        self.token = token
        self.key = hashlib.sha256(b"tradeops-dashboard\x00" + (token or secrets.token_hex(32)).encode()).digest()

    def check_token(self, given: str) -> bool:
        """True when `given` is the API token (anything is, in local mode without one)."""
        if self.token is None:
            return True
        return hmac.compare_digest(given.encode(), self.token.encode())

    def issue(self, name: str) -> tuple[str, Login]:
        """A cookie value for `ui:<name>` and what it holds."""
        login = Login(principal=f"ui:{name}", csrf=secrets.token_urlsafe(24), expires=time.time() + LIFETIME_SECONDS)
        body = base64.urlsafe_b64encode(json.dumps(login.__dict__).encode()).decode()
        return f"{body}.{self._sign(body)}", login

    def _sign(self, body: str) -> str:
        return hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()

    def read(self, request: Request) -> Login | None:
        """The request's login, or None when the cookie is missing, forged or expired."""
        value = request.cookies.get(COOKIE, "")
        body, _, signature = value.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            login = Login(**json.loads(base64.urlsafe_b64decode(body)))
        except (ValueError, TypeError):
            return None
        return login if login.expires > time.time() else None


def require_csrf(login: Login, given: str) -> None:
    """Refuse a form whose CSRF token is not the session's (403)."""
    if not hmac.compare_digest(given.encode(), login.csrf.encode()):
        raise HTTPException(403, "the form's CSRF token does not match this session; reload the page")
