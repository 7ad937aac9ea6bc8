"""Shared fixtures: real bundled market data and small files written per test."""

from __future__ import annotations

import os

# One thread for numba and OpenMP in the whole session, subprocesses included (they inherit the environment). numba
# reads it once, when first imported, so it is set before anything imports numba. On this 2-core machine numba's
# default pool made each small backtest ~10x slower: a parallel loop over one point pays the threads' start-up.
os.environ["NUMBA_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.fakes.slack_api import FakeSlack
from tradeops.data import Bars, load_bars

pytest_plugins = ["tests.plugins.requirements"]

AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def servers_dir() -> Iterator[Path]:
    """This session's own directory for long-lived servers, outside pytest's basetemp; removed at the end."""
    from tests.fakes.servers import server_directory

    with server_directory() as folder:
        yield folder


@pytest.fixture(scope="session")
def postgres_server(servers_dir: Path) -> Iterator[str]:
    """One real PostgreSQL server for the session; tests take fresh databases on it."""
    from tests.fakes.servers import postgres

    with postgres(servers_dir / "pg") as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """An empty database on the real server."""
    from tests.fakes.servers import fresh_database

    return fresh_database(postgres_server)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3 endpoint (moto in server mode) on loopback."""
    from tests.fakes.servers import s3_endpoint

    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_ENV.items():
            patch.setenv(name, value)
        with s3_endpoint() as url:
            yield url


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty bucket on the S3 endpoint; returns its name."""
    import uuid

    import boto3

    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    bucket = f"tradeops-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The local fake Slack Web API."""
    fake = FakeSlack()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def goog() -> Bars:
    """The real GOOG daily bars shipped in backtesting.py."""
    return load_bars("sample:GOOG")


@pytest.fixture(scope="session")
def eurusd() -> Bars:
    """The real EURUSD hourly bars shipped in backtesting.py."""
    return load_bars("sample:EURUSD")


@pytest.fixture
def goog_csv(tmp_path: Path) -> Path:
    """A copy of the first 300 GOOG bars as a plain CSV file the test may corrupt."""
    from tradeops.data.samples import load_sample

    frame = load_sample("GOOG", {}).head(300)
    frame.columns = ["date", "open", "high", "low", "close", "volume"]
    path = tmp_path / "goog.csv"
    frame.to_csv(path, index=False)
    return path


def rewrite(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Path:
    """Apply `change` to the CSV's frame (in place, or by returning a new frame) and write it back."""
    frame = pd.read_csv(path)
    changed = change(frame)
    (changed if isinstance(changed, pd.DataFrame) else frame).to_csv(path, index=False)
    return path
