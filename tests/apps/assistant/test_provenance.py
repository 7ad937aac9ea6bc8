"""A proposal carries how its parameters were found into the commit, the gate and the pull request (DC-41)."""

from __future__ import annotations

import anyio
import pytest

from tests.apps.assistant.conftest import ALICE, http_client
from tests.apps.slackbot.test_propose import branches
from tests.apps.vcs.conftest import git
from tradeops.gate import run_gate, validate_candidate
from tradeops.vcs.stackfile import read_settings

FOUND = {
    "method": "sweep",
    "trials": 40,
    "grid": {"fast": [8, 10, 12, 14, 16], "slow": [30, 40, 50, 60, 70, 80, 90, 100]},
}


@pytest.mark.req("DC-41")
def test_dc_41_an_mcp_proposal_commits_and_gates_its_provenance_and_the_pr_states_it(
    serve_http, desk, origin, fake_github
):
    change = {"stack": "dev", "params": {"fast": 12, "slow": 40}, "provenance": FOUND}

    async def call(url: str):
        async with http_client(url, ALICE) as alice:
            return await alice.call_tool("propose_parameters", change)

    with serve_http() as url:
        result = anyio.run(call, url)

    assert not result.is_error, result.content[0].text
    (branch,) = [b for b in branches(origin) if b != "main"]
    after = read_settings(git("show", f"{branch}:infra/stacks/Pulumi.dev.yaml", cwd=origin), "branch")
    assert after["candidate"]["provenance"] == FOUND | {"method": "sweep"}  # committed beside the parameters
    expected = run_gate(validate_candidate(after["candidate"]))[0]
    checks = {c["name"]: c for c in result.structured_content["verdict"]["checks"]}
    assert checks["min_deflated_sharpe"] == next(
        c for c in expected.to_dict()["checks"] if c["name"] == "min_deflated_sharpe"
    )
    assert "best of 40 trials (sweep)" in checks["max_pbo"]["detail"]
    (pull,) = fake_github.pulls
    assert "- found: best of 40 trials (sweep); variance of their Sharpe ratios not recorded" in pull["body"]
    assert f"| max_pbo | {checks['max_pbo']['value']} | {checks['max_pbo']['limit']} |" in pull["body"]
