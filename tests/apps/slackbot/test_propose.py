"""`/trading propose`: validated against the strategy's schema, gated, and with --pr a real branch in git
and a pull request whose body holds the verdict; `/trading params` reads what the base branch holds."""

from __future__ import annotations

import pytest
import yaml
from infra.config import parse_stack_config

from tests.apps.slackbot.conftest import WRITER
from tests.apps.vcs.conftest import GITHUB_TOKEN, git
from tradeops.audit import AuditLog
from tradeops.gate import run_gate, validate_candidate
from tradeops.store.database import open_engine


def branches(origin) -> list[str]:
    return git("for-each-ref", "--format=%(refname:short)", "refs/heads/", cwd=origin).split()


@pytest.mark.req("OE-3")
def test_oe_3_propose_with_pr_pushes_a_branch_with_the_stack_change_and_opens_a_pr_with_the_verdict(
    bot, origin, fake_github, tmp_path
):
    message = bot.result("propose dev fast=12 slow=40 --pr", WRITER, timeout=120)
    (branch,) = [b for b in branches(origin) if b != "main"]
    assert branch.startswith("slack/dev-sma_cross-")

    # the branch changes exactly the candidate's parameters of the dev stack, and the result is a valid stack
    before = git("show", "main:infra/stacks/Pulumi.dev.yaml", cwd=origin)
    after = git("show", f"{branch}:infra/stacks/Pulumi.dev.yaml", cwd=origin)
    assert git("diff", "--name-only", "main", branch, cwd=origin).split() == ["infra/stacks/Pulumi.dev.yaml"]
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("      params: {fast: 10, slow: 30}", "      params: {fast: 12, slow: 40}")]
    document = yaml.safe_load(after)
    settings = document["config"]["tradeops:settings"]
    config = parse_stack_config(settings, "proposal")
    assert config.candidate.params == {"fast": 12, "slow": 40}
    assert document["config"]["tradeops:version"] == "dev"
    log = git("log", "-1", "--format=%an <%ae>%n%B", branch, cwd=origin)
    assert "tradeops slackbot" in log and "Proposed from Slack by slack:U0WRITER" in log

    # the pull request: head = the branch, base = main, the verdict in its body, through the API with the token
    expected = run_gate(validate_candidate(settings["candidate"]))[0]
    (request,) = fake_github.requests
    assert request["path"] == "/repos/acme/tradeops/pulls"
    assert request["headers"]["Authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
    (pull,) = fake_github.pulls
    assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main"
    assert pull["head"]["sha"] == git("rev-parse", branch, cwd=origin).strip()
    state = "PASSED" if expected.passed else "FAILED"
    assert f"## Gate verdict: {state} (exit {expected.exit_code})" in pull["body"]
    for check in expected.checks:
        assert f"| {check.name} | {check.value} | {check.limit} | {'yes' if check.passed else 'no'} |" in pull["body"]
    assert "fast: 10 -> 12, slow: 30 -> 40" in pull["title"]
    assert "- found: written by hand (`trials: 1`)" in pull["body"]  # a person typed them: one trial (DC-41)

    # the channel sees the proposal, its verdict and the PR link
    assert message["response_type"] == "in_channel"
    assert f"gate {state}" in message["text"]
    assert "<https://github.com/acme/tradeops/pull/1|#1>" in message["text"] and branch in message["text"]
    audit = AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}")).entries()[0]
    assert (audit.actor, audit.action, audit.target, audit.outcome) == (
        "slack:U0WRITER",
        "slack.propose",
        "dev",
        "pr-opened",
    )
    assert audit.detail["branch"] == branch and audit.detail["passed"] is expected.passed
    assert audit.detail["pull_request"] == "https://github.com/acme/tradeops/pull/1"


@pytest.mark.req("OE-3")
def test_oe_3_an_invalid_parameter_gets_a_clear_reply_and_no_branch(bot, origin, fake_github, tmp_path):
    replies = {
        "propose dev fast=50 --pr": "invalid parameters for sma_cross: fast (50) must be less than slow (30)",
        "propose dev fast=1 --pr": "invalid parameters for sma_cross: fast: Input should be greater than or equal to 2",
        "propose dev speed=3 --pr": "invalid parameters for sma_cross: speed: Extra inputs are not permitted",
        "propose nosuch fast=12 --pr": "infra/stacks/Pulumi.nosuch.yaml not found on main",
        "propose ../etc fast=12 --pr": "'../etc' is not a stack name",
    }
    for text, reason in replies.items():
        message = bot.result(text, WRITER)
        assert message["response_type"] == "ephemeral" and message["text"].startswith(":warning:")
        assert reason in message["text"], message["text"]
    assert branches(origin) == ["main"] and fake_github.requests == []
    audit = AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}"))
    assert [e.outcome for e in audit.entries()] == ["invalid"] * len(replies)
    # usage mistakes are answered at once
    for text in ("propose dev", "propose", "propose dev fast=12 --force"):
        answer, _ = bot.command(text)
        assert "usage: `/trading propose STACK k=v ... [--pr]`" in answer.json()["text"]
    assert branches(origin) == ["main"]


@pytest.mark.req("OE-3")
def test_oe_3_propose_without_pr_only_gates_and_params_follow_the_base_branch(bot, origin, fake_github, tmp_path):
    from tests.fakes.exchange import seed_stack_datasets
    from tradeops.store.objects import FolderObjectStore

    seed_stack_datasets(FolderObjectStore(tmp_path / "bot" / "objects"), ("staging",))  # what staging gates on
    message = bot.result("propose staging slow=50", WRITER, timeout=120)
    assert "proposes for `staging`: `sma_cross` slow: 30 -> 50" in message["text"]
    assert "gate PASSED" in message["text"] or "gate FAILED" in message["text"]
    assert "nothing committed; add `--pr`" in message["text"]
    assert branches(origin) == ["main"] and fake_github.requests == []

    shown = bot.result("params staging", "U0READER")["text"]
    assert "`staging` on `main`" in shown and "strategy: sma_cross" in shown and "slow: 30" in shown
    # a merge on the remote is what params shows next
    work = tmp_path / "merge"
    git("clone", "--quiet", str(origin), str(work), cwd=tmp_path)
    path = work / "infra/stacks/Pulumi.staging.yaml"
    path.write_text(path.read_text().replace("{fast: 10, slow: 30}", "{fast: 10, slow: 50}"))
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-am", "merge", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    assert "slow: 50" in bot.result("params staging", "U0READER")["text"]
    assert "not found on main" in bot.result("params nosuch")["text"]


@pytest.mark.req("OE-3")
def test_oe_3_a_pull_request_github_refuses_is_reported_and_audited_as_failed(make_bot, origin, tmp_path):
    with make_bot(github_token="revoked-token-0000000000") as slack:
        text = slack.result("propose dev fast=12 --pr", WRITER)["text"]
        assert "GitHub refused the pull request (401): Bad credentials; branch `slack/dev-sma_cross-" in text
        assert "is pushed, open its pull request by hand" in text
    with make_bot(github_repo=None) as slack:
        text = slack.result("propose dev fast=12 --pr", WRITER)["text"]
        assert "pull requests need TRADEOPS_GITHUB_REPO" in text
    audit = AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}"))
    assert [e.outcome for e in audit.entries()] == ["invalid", "failed"]
    assert "Bad credentials" in audit.entries()[1].detail["error"]
