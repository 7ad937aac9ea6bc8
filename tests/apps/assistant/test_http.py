"""`tradeops serve mcp`: streamable HTTP on loopback behind bearer tokens, the health standard, bad arguments,
rate limits and cancellation, through the SDK's own client."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from tests.apps.assistant.conftest import ALICE, BOB, TOOLS, http_client
from tradeops.audit import AuditLog
from tradeops.settings import load_settings
from tradeops.store.database import open_engine


@pytest.mark.req("DC-23")
def test_dc_23_http_refuses_requests_without_a_known_token_and_serves_the_health_standard(serve_http):
    with serve_http() as url:
        for headers in ({}, {"Authorization": "Bearer not-a-token-0123456789"}, {"Authorization": f"Basic {ALICE}"}):
            refused = httpx.post(
                f"{url}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers=headers | {"Accept": "application/json, text/event-stream"},
            )
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
            assert refused.json() == {"error": "missing or wrong bearer token"}

        async def unauthenticated() -> None:
            async with http_client(url, None) as client:
                await client.list_tools()

        with pytest.raises(BaseExceptionGroup) as refused_client:  # the SDK's client gets the 401 as an error
            anyio.run(unauthenticated)
        assert "Server returned an error response" in repr(refused_client.value)

        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
        status = httpx.get(f"{url}/status").json()
        assert status["service"] == "mcp" and status["checks"]["database"]["ok"] and status["last_heartbeat"]
        metrics = httpx.get(f"{url}/metrics").text
        unauthorized = metrics.split('tradeops_mcp_requests_total{outcome="unauthorized"} ')[1].split()[0]
        assert float(unauthorized) >= 4  # the three posts above and the client's first request
        assert 'tradeops_mcp_requests_total{outcome="authorized"}' not in metrics
        assert 'tradeops_ready{service="mcp"} 1.0' in metrics

        async def listed() -> tuple[set[str], set[str], set[str]]:
            async with http_client(url, BOB) as client:
                tools = {t.name for t in (await client.list_tools()).tools}
                resources = {str(r.uri) for r in (await client.list_resources()).resources}
                templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
                return tools, resources, templates

        tools, resources, templates = anyio.run(listed)
        assert tools == TOOLS
        assert resources == {"tradeops://index", "tradeops://system-map", "tradeops://diagrams"}
        assert templates == {
            "tradeops://docs/{page}",
            "tradeops://stacks/{stack}/config",
            "tradeops://stacks/{stack}/verdict",
        }


@pytest.mark.req("DC-23")
def test_dc_23_bad_arguments_get_a_schema_error_and_the_server_keeps_answering(serve_http):
    bad = [
        ("run_backtest", {}, "strategy"),  # required
        ("run_backtest", {"strategy": 5}, "strategy"),  # wrong type
        ("run_backtest", {"strategy": "nosuch"}, "unknown strategy 'nosuch'"),
        ("run_backtest", {"strategy": "sma_cross", "params": {"fast": 50, "slow": 30}}, "fast (50) must be less"),
        (
            "run_sweep",
            {"strategy": "sma_cross", "grid": {"fast": list(range(400)), "slow": list(range(400))}},
            "at most",
        ),
        ("run_sweep", {"strategy": "sma_cross", "grid": {"nope": [1]}}, "no parameter(s) nope"),
        ("gate", {"strategy": "sma_cross", "data": "../../etc/passwd"}, "inside the market data folder"),
        ("get_run", {"run_id": "../x"}, "run_id"),
        ("compare_runs", {"run_ids": ["only-one"]}, "run_ids"),
        ("get_run", {"run_id": "nosuch"}, "no run nosuch"),  # valid input, unknown id: said, not crashed
        ("compare_runs", {"run_ids": ["nosuch", "other"]}, "no run nosuch"),
        ("trader_status", {}, "no active trading session"),
        ("halt", {"reason": ""}, "reason"),
        ("propose_parameters", {"stack": "Prod!", "params": {"fast": 1}}, "stack"),
    ]

    async def calls() -> list[tuple[bool, str]]:
        async with http_client(url, ALICE) as client:
            answers = []
            for name, arguments, _ in bad:
                result = await client.call_tool(name, arguments)
                answers.append((result.is_error, result.content[0].text))
            still = await client.call_tool("list_strategies", {})
            answers.append((still.is_error, str(still.structured_content)))
            return answers

    with serve_http() as url:
        answers = anyio.run(calls)
    for (name, _, expected), (is_error, text) in zip(bad, answers, strict=False):
        assert is_error and expected in text and "Traceback" not in text, (name, text)
        assert text.startswith(f"Error executing tool {name}:")
    assert answers[-1][0] is False and "sma_cross" in answers[-1][1]


@pytest.mark.req("DC-23")
def test_dc_23_calls_over_the_per_principal_rate_limit_are_refused(serve_http):
    async def calls(url: str) -> tuple[list[bool], str, bool]:
        async with http_client(url, BOB) as bob, http_client(url, ALICE) as alice:
            answers = [(await bob.call_tool("list_datasets", {})).is_error for _ in range(4)]
            refused = await bob.call_tool("list_strategies", {})
            other = await alice.call_tool("list_strategies", {})  # another principal has its own budget
            return answers, refused.content[0].text, other.is_error

    with serve_http(mcp_calls_per_minute=4) as url:
        answers, refused, other = anyio.run(calls, url)
    assert answers == [False] * 4 and not other
    assert "rate limit: bob may make 4 calls a minute; retry in" in refused


@pytest.mark.req("DC-23")
def test_dc_23_a_cancelled_sweep_stops_on_the_backtester(serve_http, desk):
    grid = {"fast": list(range(2, 60)), "slow": list(range(61, 400))}  # ~20,000 points: minutes of work
    seen: list[tuple[float, str | None]] = []

    async def sweep(url: str) -> None:
        async with http_client(url, BOB) as client:
            got_progress = anyio.Event()

            async def progress(done: float, total: float | None, message: str | None) -> None:
                seen.append((done, message))
                got_progress.set()

            async with anyio.create_task_group() as group:

                async def call() -> None:
                    await client.call_tool(
                        "run_sweep", {"strategy": "sma_cross", "grid": grid}, progress_callback=progress
                    )

                group.start_soon(call)
                with anyio.fail_after(120):
                    await got_progress.wait()
                group.cancel_scope.cancel()  # the client cancels the request (notifications/cancelled)

    with serve_http() as url:
        anyio.run(sweep, url)
        word, run_id, state = str(seen[-1][1]).split()[:3]
        assert word == "sweep" and state in ("queued", "running")  # cancelled while it was still working
        deadline = time.monotonic() + 60
        while (run := httpx.get(f"{desk.backtester}/v1/sweeps/{run_id}").json())["status"] != "cancelled":
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
    assert run["status"] == "cancelled" and run["result"] is None
    audit = AuditLog(open_engine(load_settings(data_dir=desk.data_dir).resolved_database_url))
    assert audit.entries(action_prefix="mcp.") == []  # reads are not audited; only writes are
