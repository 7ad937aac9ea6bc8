"""`tradeops mcp stdio` in a subprocess, driven by the SDK's stdio client: what a local assistant sees, and
results equal to the CLI's JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest

from tests.apps.assistant.conftest import ROOT, TOOLS, environment, stdio_client


def cli_json(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tradeops.cli", *args, "--json"],
        env=environment({}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.mark.req("DC-23", "BT-5")
def test_dc_23_bt_5_a_local_assistant_runs_a_backtest_and_a_gate_and_gets_the_clis_json(desk):
    local = ("git_remote", "github_repo", "github_token", "github_api_url")  # resources from the local checkout
    settings = {k: v for k, v in desk.settings.items() if k not in local} | {"mcp_principal": "carol"}
    progress: list[tuple[float, str | None]] = []

    async def session() -> dict:
        async def seen(done: float, _total: float | None, message: str | None) -> None:
            progress.append((done, message))

        async with stdio_client(settings) as client:
            tools = await client.list_tools()
            resources = await client.list_resources()
            index = await client.read_resource("tradeops://index")
            system_map = await client.read_resource("tradeops://system-map")
            arguments = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}
            backtest = await client.call_tool("run_backtest", arguments, progress_callback=seen)
            gate = await client.call_tool(
                "gate", arguments | {"thresholds": {"profitability": {"min_sharpe": 0.3}}}, progress_callback=seen
            )
            run_id = backtest.structured_content["id"]
            stored = await client.call_tool("get_run", {"run_id": run_id})
            compared = await client.call_tool("compare_runs", {"run_ids": [run_id, gate.structured_content["id"]]})
            prompt = await client.get_prompt("explain_verdict", {"run_id": gate.structured_content["id"]})
            return {
                "tools": {t.name: t for t in tools.tools},
                "resources": {str(r.uri) for r in resources.resources},
                "index": json.loads(index.contents[0].text)["resources"],
                "system_map": system_map.contents[0].text,
                "backtest": backtest,
                "gate": gate,
                "stored": stored,
                "compared": compared,
                "prompt": prompt,
            }

    got = anyio.run(session)
    assert set(got["tools"]) == TOOLS
    schema = got["tools"]["run_backtest"].input_schema
    assert schema["required"] == ["strategy"] and "execution" in schema["properties"]
    assert got["tools"]["gate"].output_schema["title"] == "RunView"
    assert got["tools"]["halt"].annotations.destructive_hint is True
    assert "tradeops://stacks/prod/config" in got["index"] and "tradeops://docs/slack" in got["index"]
    assert got["system_map"] == (ROOT / "system_map.yaml").read_text()

    backtest = got["backtest"]
    assert not backtest.is_error and backtest.structured_content["status"] == "done"
    expected = cli_json("backtest", "run", "-s", "sma_cross", "-p", "fast=10", "-p", "slow=30", "-d", "sample:GOOG")
    result = backtest.structured_content["result"]
    assert len(result.pop("equity")["time"]) == expected["data"]["bars"]  # the API adds the equity curve (charts)
    assert result == expected  # otherwise the CLI's `backtest run --json`, exactly
    stored = got["stored"].structured_content["result"]
    assert stored.pop("equity") and stored == expected

    verdict = got["gate"].structured_content["verdict"]
    cli_verdict = cli_json(
        "gate", "-s", "sma_cross", "-p", "fast=10", "-p", "slow=30", "-d", "sample:GOOG", "-t", "min_sharpe=0.3"
    )
    assert verdict["checks"] == cli_verdict["checks"] and verdict["passed"] == cli_verdict["passed"]
    assert verdict["exit_code"] == cli_verdict["exit_code"] and len(verdict["checks"]) >= 4

    compared = got["compared"].structured_content
    assert compared["metrics"]["sharpe"][backtest.structured_content["id"]] == expected["metrics"]["sharpe"]
    assert set(compared["best"]) >= {"sharpe", "max_drawdown_pct"}
    assert progress and all("backtest" in str(m) or "gate" in str(m) for _, m in progress)
    assert "get_run" in got["prompt"].messages[0].content.text
