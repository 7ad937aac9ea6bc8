"""The MCP server on real transports: streamable HTTP on a loopback port (uvicorn) and stdio in a subprocess,
talking to a real backtester (uvicorn, worker processes), a real bare git origin and the fake GitHub.

Tests drive it with the SDK's own client (`mcp.Client`), exactly as an assistant would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.apps.service.conftest import TOKEN
from tests.apps.vcs import conftest as vcs
from tests.apps.vcs.conftest import GITHUB_REPO, GITHUB_TOKEN
from tests.fakes.github_api import FakeGitHub
from tests.fakes.servers import uvicorn_server
from tradeops.assistant.http import create_app as create_mcp_app
from tradeops.service.backtester import create_app as create_backtester
from tradeops.settings import load_settings

origin, fake_github = vcs.origin, vcs.fake_github  # the bare repository and fake GitHub fixtures
ROOT = Path(__file__).resolve().parents[3]
ALICE, BOB = "alice-token-0123456789abcdef", "bob-token-0123456789abcdefgh"  # alice writes, bob only reads
TOOLS = {
    "list_strategies",
    "run_backtest",
    "run_sweep",
    "gate",
    "get_run",
    "compare_runs",
    "list_releases",
    "trader_status",
    "list_backups",
    "list_datasets",
    "propose_parameters",
    "halt",
    "reduce_only",
    "resume",
}


@dataclass
class Desk:
    """The running pieces one test talks to."""

    data_dir: Path
    backtester: str
    settings: dict[str, Any]


@pytest.fixture
def desk(tmp_path: Path, origin: Path, fake_github: FakeGitHub) -> Iterator[Desk]:
    """A backtester on loopback and the settings an MCP server next to it uses (same database and objects)."""
    data_dir = tmp_path / "desk"
    with uvicorn_server(create_backtester(load_settings(data_dir=data_dir, api_token=TOKEN, workers=1))) as api:
        yield Desk(
            data_dir,
            api,
            {
                "data_dir": data_dir,
                "api_token": TOKEN,
                "backtester_url": api,
                "mcp_tokens": f"alice={ALICE},bob={BOB}",
                "mcp_writers": "alice",
                "mcp_files_dir": ROOT,
                "git_remote": str(origin),
                "github_repo": GITHUB_REPO,
                "github_token": GITHUB_TOKEN,
                "github_api_url": fake_github.url,
            },
        )


@pytest.fixture
def serve_http(desk: Desk) -> Callable[..., Any]:
    """Start `tradeops serve mcp`'s app on a loopback port (settings overridable); yields its base URL."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[str]:
        with uvicorn_server(create_mcp_app(load_settings(**(desk.settings | overrides)))) as url:
            yield url

    return start


@asynccontextmanager
async def http_client(url: str, token: str | None) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP, with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60, read=300)) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
    ):
        yield client


def environment(settings: dict[str, Any]) -> dict[str, str]:
    """The settings as TRADEOPS_* variables for a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEOPS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "apps"), str(ROOT)])
    return env | {f"TRADEOPS_{k.upper()}": str(v) for k, v in settings.items()}


def stdio_client(settings: dict[str, Any]) -> Client:
    """The SDK's client over stdio: `tradeops mcp stdio` as a subprocess."""
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "tradeops.cli", "mcp", "stdio"], env=environment(settings), cwd=str(ROOT)
    )
    return Client(parameters)
