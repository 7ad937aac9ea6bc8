"""The web dashboard at /ui/, served by the backtester: runs, forms, verdicts, releases, trader, operations."""

from __future__ import annotations

from fastapi import FastAPI

from tradeops.settings import AppSettings


def install_dashboard(app: FastAPI, settings: AppSettings) -> None:
    """Mount the dashboard's routes on the backtester app (they use its stores from app.state)."""
    from tradeops.service.dashboard import desk, pages, runs
    from tradeops.service.dashboard.headers import SecurityHeaders
    from tradeops.service.dashboard.session import Sessions

    sessions = Sessions(settings)  # sessions in the database, bound to the API token's fingerprint
    app.include_router(pages.build_router(sessions))
    app.include_router(runs.build_router(settings, sessions))
    app.include_router(desk.build_router(settings, sessions))
    app.add_middleware(SecurityHeaders)
    app.state.dashboard_sessions = sessions  # for install_dashboard_errors, once every other handler is in


def install_dashboard_errors(app: FastAPI) -> None:
    """Answer errors under /ui/ with pages; after install_guards, whose JSON handler the API keeps."""
    from tradeops.service.dashboard.errors import install_error_pages

    install_error_pages(app, app.state.dashboard_sessions)
