"""Approvals carry a verified identity (DC-59): a name typed on the command line never approves a bundle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from infra.config import Promotion
from pipelines.deploy.promote import approval_condition

from tests.apps.cli.test_cli import cli
from tests.apps.slackbot.test_approve import CONTENT
from tests.apps.vcs.conftest import GITHUB_REPO, GITHUB_TOKEN
from tests.fakes.github_api import FakeGitHub
from tradeops.bundles import Approval, BundleStore, Verification
from tradeops.store.objects import FolderObjectStore

TWO_PEOPLE = Promotion.model_validate({"from": "staging", "approvals": 2})
ALICE, BOB = "alice-token-0123456789abcdef", "bob-token-0123456789abcdef0"


@pytest.fixture
def bundles(monkeypatch, tmp_path) -> BundleStore:
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    for name in ("GITHUB_ACTOR", "TRADEOPS_APPROVER_TOKEN", "TRADEOPS_MCP_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    store = BundleStore(FolderObjectStore(tmp_path / "objects"))
    at = datetime.now(UTC)
    store.save(CONTENT, Verification(bundle_id=CONTENT.id, stack="staging", verdict_id="verdict-1", passed=True, at=at))
    return store


def _condition(bundles: BundleStore) -> tuple[str, str]:
    condition = approval_condition(TWO_PEOPLE, bundles.get(CONTENT.id), "prod")
    return condition.status, condition.detail


@pytest.mark.req("DC-59")
def test_dc_59_names_given_on_the_command_line_never_satisfy_a_two_person_approval(monkeypatch, capsys, bundles):
    for name in ("github:alice", "github:bob"):
        code, _, err = cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id, "--as", name)
        assert code == 2, err
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")  # any shell can set it
    code, _, err = cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id)
    assert code == 2 and "needs your token in TRADEOPS_APPROVER_TOKEN" in err, err
    assert bundles.get(CONTENT.id).approvals == []
    # what the old `--as` wrote: a name and a label, no evidence of who it was
    bundles.record(
        Approval(bundle_id=CONTENT.id, stage="prod", who="github:alice", source="pull-request", at=datetime.now(UTC))
    )
    bundles.record(
        Approval(bundle_id=CONTENT.id, stage="prod", who="github:bob", source="pull-request", at=datetime.now(UTC))
    )
    assert _condition(bundles)[0] == "inconclusive"
    assert "0 of 2 approval(s) for prod" in _condition(bundles)[1]


@pytest.mark.req("DC-59")
def test_dc_59_a_cli_approval_needs_a_token_that_names_its_principal(monkeypatch, capsys, bundles):
    monkeypatch.setenv("TRADEOPS_MCP_TOKENS", f"alice={ALICE},bob={BOB}")
    monkeypatch.setenv("TRADEOPS_APPROVER_TOKEN", "not-anyones-token-0123456789")
    code, _, err = cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id)
    assert code == 2 and "TRADEOPS_APPROVER_TOKEN names no principal" in err and ALICE not in err

    monkeypatch.setenv("TRADEOPS_APPROVER_TOKEN", ALICE)
    code, _, err = cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id)
    assert code == 0 and f"token:alice approved {CONTENT.id} for prod" in err, err
    assert cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id)[0] == 0  # the same person again
    assert _condition(bundles) == (
        "inconclusive",
        f"1 of 2 approval(s) for prod (so far: token:alice); approve with `/trading approve {CONTENT.id}`",
    )
    monkeypatch.setenv("TRADEOPS_APPROVER_TOKEN", BOB)
    assert cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id)[0] == 0

    assert _condition(bundles) == ("passed", "approved by token:alice, token:bob")
    alice = bundles.get(CONTENT.id).approvals[0]
    assert (alice.source, alice.evidence) == ("cli", "a bearer token of principal alice (TRADEOPS_MCP_TOKENS)")


@pytest.mark.req("DC-59")
def test_dc_59_a_pull_request_approval_is_a_review_read_back_from_github_for_the_bundles_commit(
    monkeypatch, capsys, bundles
):
    github = FakeGitHub(GITHUB_TOKEN, {GITHUB_REPO})
    monkeypatch.setenv("TRADEOPS_GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("TRADEOPS_GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", GITHUB_REPO)
    github.add_pull(GITHUB_REPO, 7, head_sha="1" * 40, merge_commit_sha=CONTENT.git_sha)
    github.add_pull(GITHUB_REPO, 9, head_sha="2" * 40, merge_commit_sha="3" * 40)  # another change
    for number in (7, 9):
        github.add_review(GITHUB_REPO, number, "alice", "APPROVED")
        github.add_review(GITHUB_REPO, number, "bob", "APPROVED")
    try:
        code, _, err = cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id, "--pr", "9")
        assert code == 2 and f"{GITHUB_REPO}#9 did not bring commit {CONTENT.git_sha[:12]}" in err, err
        assert bundles.get(CONTENT.id).approvals == []

        code, _, err = cli(monkeypatch, capsys, "bundles", "approve", CONTENT.id, "--pr", "7")

        assert code == 0 and f"github:alice approved {CONTENT.id} for prod (review of #7)" in err, err
        assert _condition(bundles) == ("passed", "approved by github:alice, github:bob")
        alice = bundles.get(CONTENT.id).approvals_for("prod")[0]
        assert (alice.source, alice.evidence) == (
            "pull-request",
            f"https://github.com/{GITHUB_REPO}/pull/7#pullrequestreview-80",
        )
    finally:
        github.stop()


@pytest.mark.req("DC-59")
def test_dc_59_every_command_taking_an_actor_refuses_the_names_only_authentication_gives(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    for command in (["halt"], ["reduce-only"], ["resume"], ["reconcile", "--accept-venue"]):
        for reserved in ("mcp:alice", "ui:alice", "github:alice", "slack:U0BOSS", "MCP:alice"):
            code, _, err = cli(monkeypatch, capsys, "trader", *command, "--reason", "mine", "--actor", reserved)
            assert code == 2 and f"--actor {reserved!r} is reserved" in err, (command, reserved, err)
    assert not (tmp_path / "tradeops.db").exists()  # refused before anything opened the ledger
