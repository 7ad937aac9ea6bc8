"""`tradeops mcp stdio` works out of the box (issue 30): backtests in process without a backtester URL, an
unreachable URL named with the command that starts it, a clean exit, and protocol errors a client expects.

Each test drives the real subprocess with the SDK's stdio client, as an assistant would.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, PromptReference, ResourceTemplateReference

from tests.apps.assistant.conftest import ROOT, environment
from tests.fakes.servers import uvicorn_server
from tradeops.service.backtester import create_app as create_backtester
from tradeops.settings import load_settings

SMA = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}


@asynccontextmanager
async def session(settings: dict[str, Any], stderr: Path) -> AsyncIterator[Client]:
    """`tradeops mcp stdio` with `settings` (no backtester URL unless given), its stderr written to `stderr`."""
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "tradeops.cli", "mcp", "stdio"], env=environment(settings), cwd=str(ROOT)
    )
    with stderr.open("w") as errlog:
        async with Client(stdio_client(parameters, errlog=errlog)) as client:
            yield client


def _local(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"data_dir": tmp_path / "data", "mcp_files_dir": ROOT, "workers": 1} | extra


@pytest.mark.req("DC-62")
def test_dc_62_without_a_backtester_url_backtests_run_in_process_with_the_services_caps(tmp_path):
    stderr = tmp_path / "stderr.txt"

    async def talk() -> tuple[Any, Any, Any]:
        async with session(_local(tmp_path, memory_limit_mib=256), stderr) as client:
            backtest = await client.call_tool("run_backtest", SMA)
            stored = await client.call_tool("get_run", {"run_id": backtest.structured_content["id"]})
            too_big = await client.call_tool("run_backtest", SMA | {"data": "sample:synthetic?bars=2000000"})
            return backtest, stored, too_big

    backtest, stored, too_big = anyio.run(talk)
    assert not backtest.is_error, backtest.content
    run = backtest.structured_content
    assert run["status"] == "done" and run["result"]["metrics"]["trades"] > 0
    assert stored.structured_content["id"] == run["id"]  # stored where every other local command stores runs
    capped = too_big.structured_content  # the service's bar cap (256 MiB, one worker), applied in process
    assert (
        capped["status"] == "failed" and "at most 671,088 (the memory cap: TRADEOPS_MEMORY_LIMIT_MIB" in capped["error"]
    )
    text = stderr.read_text()
    assert "Event loop is closed" not in text and "Traceback" not in text and "error:" not in text, text


@pytest.mark.req("DC-62")
def test_dc_62_an_unreachable_backtester_url_is_named_with_the_command_that_starts_it(tmp_path):
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    async def talk() -> Any:
        async with session(_local(tmp_path, backtester_url=url), tmp_path / "stderr.txt") as client:
            return await client.call_tool("run_backtest", SMA)

    refused = anyio.run(talk)
    message = refused.content[0].text
    assert refused.is_error and url in message and f"`tradeops serve backtester --port {port}`" in message, message
    assert "Event loop is closed" not in (tmp_path / "stderr.txt").read_text()


@pytest.mark.req("DC-62")
def test_dc_62_bad_prompt_requests_answer_invalid_params_and_names_complete(tmp_path):
    async def talk() -> dict[str, Any]:
        errors: dict[str, Any] = {}
        async with session(_local(tmp_path), tmp_path / "stderr.txt") as client:
            for name, arguments in (("explain_verdict", {}), ("no_such_prompt", {}), ("review_candidate", {})):
                with pytest.raises(MCPError) as refused:
                    await client.get_prompt(name, arguments)
                errors[name] = refused.value.error
            prompt = PromptReference(type="ref/prompt", name="review_candidate")
            stacks = await client.complete(prompt, {"name": "stack", "value": "p"})
            page = ResourceTemplateReference(type="ref/resource", uri="tradeops://docs/{page}")
            pages = await client.complete(page, {"name": "page", "value": "mc"})
            capabilities = client.server_capabilities
        return {"errors": errors, "stacks": stacks, "pages": pages, "capabilities": capabilities}

    got = anyio.run(talk)
    for name, error in got["errors"].items():
        assert error.code == INVALID_PARAMS, (name, error)
    assert "no_such_prompt" in got["errors"]["no_such_prompt"].message
    assert got["stacks"].completion.values == ["prod"] and "mcp" in got["pages"].completion.values
    assert got["capabilities"].completions is not None


@pytest.mark.req("DC-62")
def test_dc_62_exiting_after_a_backtest_on_a_backtester_url_prints_no_error(tmp_path):
    settings = _local(tmp_path)
    with uvicorn_server(create_backtester(load_settings(**settings))) as url:

        async def talk() -> Any:
            async with session(settings | {"backtester_url": url}, tmp_path / "stderr.txt") as client:
                return await client.call_tool("run_backtest", SMA)  # leaves a kept-alive connection to close

        backtest = anyio.run(talk)
    assert not backtest.is_error and backtest.structured_content["status"] == "done"
    text = (tmp_path / "stderr.txt").read_text()
    assert "Event loop is closed" not in text and "error:" not in text and "Traceback" not in text, text
