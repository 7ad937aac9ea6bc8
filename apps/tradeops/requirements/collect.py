"""Pytest plugin that records which tests cite which requirement, for `tradeops requirements sync`.

Loaded with `-p tradeops.requirements.collect --requirements-cited-out FILE` on a `--collect-only`
run; it writes `{"ID": ["tests/x.py::test_name", ...]}` as JSON once collection is done.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def catalog_key(item: pytest.Item) -> str:
    """Return how the catalog names a test: `tests/x.py::test_name`, parametrisations merged."""
    return f"{item.nodeid.split('::', 1)[0]}::{getattr(item, 'originalname', item.name)}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("requirements").addoption(
        "--requirements-cited-out", metavar="FILE", help="write requirement -> citing tests as JSON"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "req(*ids): the requirement IDs this test proves")


def pytest_collection_finish(session: pytest.Session) -> None:
    out = session.config.getoption("requirements_cited_out")
    if not out:
        return
    cited: dict[str, set[str]] = {}
    for item in session.items:
        for marker in item.iter_markers("req"):
            for requirement_id in marker.args:
                cited.setdefault(requirement_id, set()).add(catalog_key(item))
    Path(out).write_text(json.dumps({k: sorted(v) for k, v in sorted(cited.items())}, indent=1))
