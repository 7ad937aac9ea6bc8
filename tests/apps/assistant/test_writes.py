"""The write tools over streamable HTTP: a proposal becomes a real branch and a PR through the fake GitHub (the
Slack app's path), the kill switch moves the trader; principals outside the writers list are refused and
audited."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.apps.assistant.conftest import ALICE, BOB, http_client
from tests.apps.slackbot.conftest import add_session
from tests.apps.slackbot.test_propose import branches
from tests.apps.vcs.conftest import git
from tradeops.audit import AuditLog
from tradeops.gate import run_gate, validate_candidate
from tradeops.settings import load_settings
from tradeops.store.database import open_engine
from tradeops.trader.control import TraderControl
from tradeops.vcs.stackfile import read_settings


@pytest.mark.req("DC-23", "OE-3")
def test_dc_23_oe_3_a_proposal_opens_a_pr_on_a_real_branch_and_readers_are_refused_and_audited(
    serve_http, desk, origin, fake_github
):
    change = {"stack": "dev", "params": {"fast": 12, "slow": 40}}

    async def calls(url: str) -> dict:
        async with http_client(url, BOB) as bob, http_client(url, ALICE) as alice:
            return {
                "bob": await bob.call_tool("propose_parameters", change),
                "bad": await alice.call_tool("propose_parameters", {"stack": "dev", "params": {"fast": 50}}),
                "alice": await alice.call_tool("propose_parameters", change),
            }

    with serve_http() as url:
        got = anyio.run(calls, url)

    refused = got["bob"]
    assert refused.is_error
    assert (
        "bob may not propose: only the stack's MCP writers may (TRADEOPS_MCP_WRITERS: alice)" in refused.content[0].text
    )
    assert "fast (50) must be less than slow (30)" in got["bad"].content[0].text

    result = got["alice"]
    assert not result.is_error, result.content[0].text
    answer = result.structured_content
    (branch,) = [b for b in branches(origin) if b != "main"]  # bob's and the invalid one committed nothing
    assert branch.startswith("mcp/dev-sma_cross-") and answer["branch"] == branch
    assert git("diff", "--name-only", "main", branch, cwd=origin).split() == ["infra/stacks/Pulumi.dev.yaml"]
    after = read_settings(git("show", f"{branch}:infra/stacks/Pulumi.dev.yaml", cwd=origin), "branch")
    assert after["candidate"]["params"] == {"fast": 12, "slow": 40}
    assert answer["before"] == {"fast": 10, "slow": 30} and answer["after"] == {"fast": 12, "slow": 40}
    log = git("log", "-1", "--format=%an <%ae>%n%B", branch, cwd=origin)
    assert "tradeops mcp <mcp@tradeops.invalid>" in log and "Proposed from MCP by mcp:alice" in log

    expected = run_gate(validate_candidate(after["candidate"]))[0]
    assert answer["verdict"]["checks"] == expected.to_dict()["checks"]
    assert answer["verdict"]["exit_code"] == expected.exit_code
    (pull,) = fake_github.pulls
    assert answer["pull_request"]["number"] == pull["number"] and pull["head"]["ref"] == branch
    assert "proposed from MCP by `mcp:alice`" in pull["body"]
    for check in expected.checks:
        assert f"| {check.name} | {check.value} | {check.limit} | {'yes' if check.passed else 'no'} |" in pull["body"]

    audit = AuditLog(open_engine(load_settings(data_dir=desk.data_dir).resolved_database_url))
    entries = [(e.actor, e.outcome, e.target) for e in audit.entries(action_prefix="mcp.propose")]
    assert entries == [("mcp:alice", "pr-opened", "dev"), ("mcp:alice", "invalid", "dev"), ("mcp:bob", "denied", "dev")]
    assert audit.entries(action_prefix="mcp.propose")[0].detail["pull_request"] == pull["html_url"]


@pytest.mark.req("DC-23", "OE-3")
def test_dc_23_oe_3_the_kill_switch_obeys_writers_only_and_every_attempt_is_audited(serve_http, desk):
    database = load_settings(data_dir=desk.data_dir).resolved_database_url
    add_session(database)
    control = TraderControl(open_engine(database))

    async def calls(url: str) -> dict:
        async with http_client(url, BOB) as bob, http_client(url, ALICE) as alice:
            out = {"bob_halt": await bob.call_tool("halt", {"reason": "panic"})}
            out["state_after_bob"] = control.status().state
            out["status"] = await bob.call_tool("trader_status", {})
            out["halt"] = await alice.call_tool("halt", {"reason": "news at 14:00"})
            out["state_after_halt"] = control.status().state
            out["reduce"] = await alice.call_tool("reduce_only", {"reason": "drawdown"})
            out["resume"] = await alice.call_tool("resume", {"reason": "news digested", "session": "paper-goog"})
            out["missing"] = await alice.call_tool("halt", {"reason": "x", "session": "no-such-session"})
            return out

    with serve_http() as url:
        got = anyio.run(calls, url)
    assert got["bob_halt"].is_error and "bob may not halt" in got["bob_halt"].content[0].text
    assert got["state_after_bob"] == "running" and got["status"].structured_content["state"] == "running"
    assert got["status"].structured_content["equity"] == 10_290.0
    assert got["halt"].structured_content["state"] == "halted" and got["state_after_halt"] == "halted"
    assert got["halt"].structured_content["state_reason"] == "news at 14:00"
    assert got["reduce"].structured_content["state"] == "reducing"
    assert got["resume"].structured_content["state"] == "running"
    assert got["missing"].is_error and "no trading session 'no-such-session'" in got["missing"].content[0].text

    audit = AuditLog(control.engine)
    trader = [(e.actor, e.action, e.outcome) for e in audit.entries(action_prefix="trader.")]
    assert trader == [
        ("mcp:alice", "trader.running", "applied"),
        ("mcp:alice", "trader.reducing", "applied"),
        ("mcp:alice", "trader.halted", "applied"),
    ]
    mcp = [(e.actor, e.action, e.outcome) for e in audit.entries(action_prefix="mcp.")]
    assert mcp == [
        ("mcp:alice", "mcp.halt", "failed"),
        ("mcp:alice", "mcp.resume", "applied"),
        ("mcp:alice", "mcp.reduce-only", "applied"),
        ("mcp:alice", "mcp.halt", "applied"),
        ("mcp:bob", "mcp.halt", "denied"),
    ]
    assert audit.entries(action_prefix="mcp.halt")[-1].detail["reason"] == "panic"


@pytest.mark.req("DC-24")
def test_dc_24_a_halt_from_mcp_on_a_venue_has_the_trader_cancel_its_open_orders(serve_http, desk, tmp_path):
    from tests.apps.service.conftest import TOKEN
    from tests.apps.slackbot.test_killswitch import started
    from tests.apps.trader.test_service import until
    from tests.apps.trader.venue_helpers import funded_venue, left_open, venue_settings, venue_trader

    fake = funded_venue()
    data_dir = tmp_path / "trader"
    database = f"sqlite:///{data_dir / 'tradeops.db'}"

    async def halt(url: str) -> Any:
        async with http_client(url, ALICE) as alice:
            return await alice.call_tool("halt", {"reason": "venue drill"})

    try:
        with venue_trader(data_dir, fake, TOKEN, replay_speed=4) as trader_url:
            control = TraderControl(open_engine(database))
            until(lambda: started(control, "svc"))
            left_open(fake, "manual-9")
            with serve_http(**venue_settings(fake), database_url=database, trader_url=trader_url) as url:
                answer = anyio.run(halt, url)
            assert not answer.is_error and answer.structured_content["state"] == "halted"
            venue = answer.structured_content["venue"]
            assert venue["outcome"] == "applied" and [c["client_id"] for c in venue["cancelled"]] == ["manual-9"]
            assert fake.account.open_orders() == []
    finally:
        fake.stop()
    actors = {(e.actor, e.action) for e in AuditLog(open_engine(database)).entries()}
    assert {("mcp:alice", "trader.halted"), ("mcp:alice", "mcp.halt"), ("token:api-client", "venue.halt")} <= actors
