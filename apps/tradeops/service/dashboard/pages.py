"""Login, logout and the plotly asset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from tradeops.service.dashboard.common import render
from tradeops.service.dashboard.session import COOKIE, LIFETIME_SECONDS, NAME, Sessions, require_csrf
from tradeops.service.guards import client_of
from tradeops.service.throttle import FailureThrottle


def build_router(sessions: Sessions) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)

    @router.get("/login")
    def login_page(request: Request) -> HTMLResponse:
        return render("login.html.j2", None, error=None, name="", open_mode=sessions.token is None)

    @router.post("/login")
    def login(request: Request, name: Annotated[str, Form()] = "", token: Annotated[str, Form()] = "") -> Response:
        throttle: FailureThrottle = request.app.state.auth_throttle
        client = client_of(request.scope)
        wait = throttle.retry_after(client)
        error = None
        if wait is not None:  # no attempt is checked while throttled, a right token included
            page = render("login.html.j2", None, error=f"too many wrong tokens; try again in {wait} s", name=name,
                          open_mode=sessions.token is None)  # fmt: skip
            page.status_code, page.headers["Retry-After"] = 429, str(wait)
            return page
        if not NAME.match(name):
            error = "name: 1 to 64 letters, digits, dot, dash, underscore or @"
        elif not sessions.check_token(token):
            throttle.failed(client)
            error = "token: wrong token"
        if error:
            page = render("login.html.j2", None, error=error, name=name, open_mode=sessions.token is None)
            page.status_code = 401 if error.startswith("token") else 422
            return page
        cookie, _ = sessions.issue(request, name)
        response = RedirectResponse("/ui/", status_code=303)
        secure = request.url.scheme == "https"  # TLS here, or X-Forwarded-Proto from a trusted proxy
        response.set_cookie(
            COOKIE, cookie, max_age=LIFETIME_SECONDS, httponly=True, samesite="strict", path="/ui", secure=secure
        )
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        login = sessions.read(request)
        if login is not None:
            require_csrf(login, csrf)
            sessions.end(request)  # the row goes: the cookie is worthless on every replica from now on
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/ui")
        return response

    @router.get("/static/plotly.min.js")
    def plotly_asset() -> Response:
        from tradeops.reports.embed import plotly_js

        return Response(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    return router
