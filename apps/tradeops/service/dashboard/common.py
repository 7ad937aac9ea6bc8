"""What every dashboard page shares: templates, the login check and the plotly asset."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from tradeops import __version__
from tradeops.reports.html import fmt
from tradeops.service.dashboard.headers import NONCE
from tradeops.service.dashboard.session import Login, Sessions

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("tradeops.service.dashboard", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
)
NAV = [
    ("/ui/", "Runs"),
    ("/ui/new", "New run"),
    ("/ui/gate", "Gate & releases"),
    ("/ui/trader", "Trader"),
    ("/ui/operations", "Operations"),
]


def login_of(request: Request, sessions: Sessions) -> Login:
    """The logged-in user, or a redirect to the login page (303)."""
    login = sessions.read(request)
    if login is None:
        raise HTTPException(303, "log in first", headers={"Location": "/ui/login"})
    return login


def render(template: str, login: Login | None, **context: Any) -> HTMLResponse:
    page = ENV.get_template(template).render(
        login=login, nav=NAV, fmt=fmt, version=__version__, csp_nonce=NONCE.get(), **context
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
