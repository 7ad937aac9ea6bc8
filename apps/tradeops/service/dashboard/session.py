"""The dashboard's login: the API token logs a browser in once; then an HttpOnly, SameSite session cookie.

Sessions live in the service's database (table `dashboard_sessions`), not in the cookie: the cookie
holds a random 256-bit id, the table its SHA-256 with the principal, the CSRF token, the expiry and a
fingerprint of the API token it was issued under. Every replica reads the same table, so logout
(the row is deleted) ends the session everywhere at once, and a replica started with a rotated token
refuses sessions of the old one. A signed cookie with a per-user version stamp would also end sessions
on every replica, but only all of a user's sessions at once and still with a database read per
request; a row per session ends exactly one. Every state-changing form carries the CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradeops.settings import AppSettings
from tradeops.store.models import DashboardSessionRow

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
    """Issue, check and end dashboard sessions stored in the database of `request.app.state.store`."""

    def __init__(self, settings: AppSettings) -> None:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        self.token = token
        secret = token or secrets.token_hex(32)  # local mode without a token: sessions end with the process
        self.fingerprint = hashlib.sha256(b"tradeops-dashboard\x00" + secret.encode()).hexdigest()

    def check_token(self, given: str) -> bool:
        """True when `given` is the API token (anything is, in local mode without one)."""
        if self.token is None:
            return True
        return hmac.compare_digest(given.encode(), self.token.encode())

    def issue(self, request: Request, name: str) -> tuple[str, Login]:
        """A new session for `ui:<name>`: the cookie value and what it stands for."""
        cookie, now = secrets.token_urlsafe(32), time.time()
        login = Login(principal=f"ui:{name}", csrf=secrets.token_urlsafe(24), expires=now + LIFETIME_SECONDS)
        with Session(_engine(request)) as db, db.begin():
            db.execute(delete(DashboardSessionRow).where(DashboardSessionRow.expires_at <= now))
            db.add(
                DashboardSessionRow(
                    id_hash=_hash(cookie),
                    principal=login.principal,
                    csrf=login.csrf,
                    token_fingerprint=self.fingerprint,
                    created_at=now,
                    expires_at=login.expires,
                )
            )
        return cookie, login

    def read(self, request: Request) -> Login | None:
        """The request's login, or None when the cookie is missing, unknown, ended, expired or of another token."""
        cookie = request.cookies.get(COOKIE, "")
        if not cookie or len(cookie) > 128:
            return None
        with Session(_engine(request)) as db:
            row = db.scalar(select(DashboardSessionRow).where(DashboardSessionRow.id_hash == _hash(cookie)))
        if row is None or row.expires_at <= time.time():
            return None
        if not hmac.compare_digest(row.token_fingerprint, self.fingerprint):
            return None  # issued under a token this service no longer has (rotated)
        return Login(principal=row.principal, csrf=row.csrf, expires=row.expires_at)

    def end(self, request: Request) -> None:
        """End the request's session on every replica (its row is deleted)."""
        cookie = request.cookies.get(COOKIE, "")
        if cookie:
            with Session(_engine(request)) as db, db.begin():
                db.execute(delete(DashboardSessionRow).where(DashboardSessionRow.id_hash == _hash(cookie)))


def _engine(request: Request) -> Engine:
    return request.app.state.store.engine


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def require_csrf(login: Login, given: str) -> None:
    """Refuse a form whose CSRF token is not the session's (403)."""
    if not hmac.compare_digest(given.encode(), login.csrf.encode()):
        raise HTTPException(403, "the form's CSRF token does not match this session; reload the page")
