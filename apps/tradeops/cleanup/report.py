"""Write the cleanup report (Markdown from a Jinja2 template, and JSON) to the object store."""

from __future__ import annotations

import json
from dataclasses import asdict

import jinja2

from tradeops.cleanup.plan import CleanupReport
from tradeops.store import ObjectStore

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("tradeops.cleanup", "templates"),
    autoescape=False,  # noqa: S701 - Markdown, not HTML
    keep_trailing_newline=True,
)


def render_markdown(report: CleanupReport) -> str:
    return _ENV.get_template("report.md.j2").render(report=report)


def save(report: CleanupReport, objects: ObjectStore) -> str:
    """Store `cleanup/<time>/report.md` and `report.json`; return the Markdown key."""
    prefix = f"cleanup/{report.started_at:%Y%m%dT%H%M%SZ}"
    objects.put(f"{prefix}/report.json", json.dumps(asdict(report), default=str, indent=2).encode(), "application/json")
    objects.put(f"{prefix}/report.md", render_markdown(report).encode(), "text/markdown")
    return f"{prefix}/report.md"
