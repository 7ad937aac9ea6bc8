"""Errors under /ui/ answer as dashboard pages (the navigation, the status, the reason), never as raw JSON.

The API under /v1/ and the pages' `.json` endpoints keep their JSON answers: each handler hands every other path
to the one it replaces."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from tradeops.service.dashboard.common import render
from tradeops.service.dashboard.session import Sessions

Handler = Callable[[Request, Any], Awaitable[Response]]


def _is_page(request: Request) -> bool:
    """A dashboard page; its `.json` endpoints (polled by the pages' scripts) keep JSON errors."""
    path = request.url.path
    return (path.startswith("/ui/") or path == "/ui") and not path.endswith(".json")


def _page(request: Request, sessions: Sessions, status: int, message: str, headers: Any = None) -> Response:
    page = render("error.html.j2", sessions.read(request), status=status, phrase=HTTPStatus(status).phrase,
                  message=message)  # fmt: skip
    page.status_code = status
    page.headers.update(headers or {})
    return page


def _reason(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_error_pages(app: FastAPI, sessions: Sessions) -> None:
    """Render HTTP and validation errors of /ui/ paths as pages; call it after every other exception handler."""
    api_http: Handler = app.exception_handlers.get(StarletteHTTPException, http_exception_handler)  # type: ignore[assignment]
    api_validation: Handler = app.exception_handlers.get(  # type: ignore[assignment]
        RequestValidationError, request_validation_exception_handler
    )

    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not _is_page(request) or error.status_code < 400:  # a redirect to the login page stays one
            return await api_http(request, error)
        return _page(request, sessions, error.status_code, str(error.detail), error.headers)

    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if not _is_page(request):
            return await api_validation(request, error)
        return _page(request, sessions, 422, _reason(error))

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
