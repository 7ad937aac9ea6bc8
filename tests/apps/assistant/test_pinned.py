"""An MCP backtest or gate on `dataset:NAME` runs on, and records, the version pinned when it was called (DC-31)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.apps.assistant.conftest import BOB, http_client
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.imports import bars_to_frames
from tradeops.store.objects import FolderObjectStore

CANDIDATE = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "dataset:goog-1d"}


@pytest.mark.req("DC-31")
def test_dc_31_mcp_backtests_and_gates_record_the_dataset_version_they_ran_on(serve_http, desk):
    store = DatasetStore(FolderObjectStore(desk.data_dir / "objects"))  # the backtester's object store
    goog = load_bars("sample:GOOG")
    pinned, _ = store.write("goog-1d", bars_to_frames(goog.head(1200)), timeframe="1d", source="test")

    async def calls(url: str) -> list[dict[str, Any]]:
        async with http_client(url, BOB) as client:  # a reader: backtests and the gate are read tools
            backtest = await client.call_tool("run_backtest", CANDIDATE)
            gate = await client.call_tool("gate", CANDIDATE)
            missing = await client.call_tool("run_backtest", CANDIDATE | {"data": "dataset:nothing"})
        assert not backtest.is_error and not gate.is_error, (backtest.content, gate.content)
        assert missing.is_error and "dataset:nothing: no such dataset" in missing.content[0].text
        return [backtest.structured_content or {}, gate.structured_content or {}]

    with serve_http() as url:
        backtest, gate = anyio.run(calls, url)
    assert backtest["data"] == gate["data"] == pinned.ref  # the run records NAME@VERSION, not the name
    for data in (backtest["result"]["data"], gate["result"]["data"]):
        assert data["ref"] == pinned.ref and data["sha256"] == pinned.sha256
