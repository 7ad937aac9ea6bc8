"""A running backtester per test: real stores, real worker processes, in-process HTTP client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def backtester(data_dir: Path, **settings: Any) -> Iterator[TestClient]:
    options = {"data_dir": data_dir, "api_token": TOKEN, "workers": 2} | settings
    with TestClient(create_app(load_settings(**options))) as client:
        yield client


def wait_for(
    client: TestClient, url: str, states: tuple[str, ...] = ("done", "failed", "cancelled"), timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["status"] in states:
            return body  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"{url} did not reach {states}: {body}")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with backtester(tmp_path / "data") as client:
        yield client


@pytest.fixture
def make_api(tmp_path: Path) -> Callable[..., Any]:
    return lambda **settings: backtester(tmp_path / "data", **settings)
