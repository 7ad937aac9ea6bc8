"""`tradeops promote`, `tradeops releases show`, `tradeops bundles approve|reverify|check` (DC-22)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from infra.components.backtest_gate import candidate_hash
from pipelines.deploy.deployer import deploy
from pipelines.infra.evaluate import stack_config

from pipelines.deploy import engine as engines
from tests.apps.cli.test_cli import cli
from tests.apps.slackbot.test_approve import CONTENT
from tests.apps.vcs.conftest import GITHUB_REPO, GITHUB_TOKEN
from tests.fakes.exchange import seed_stack_datasets
from tests.fakes.github_api import FakeGitHub
from tests.pipelines.deploy.conftest import plan
from tests.pipelines.deploy.promotion_setup import open_ledger
from tradeops.bundles import BundleStore
from tradeops.gate.candidate import Candidate
from tradeops.releases import ReleaseStore
from tradeops.store import RunStore
from tradeops.store.objects import FolderObjectStore


@pytest.mark.req("DC-22")
def test_dc_22_promote_show_approve_reverify_and_check_from_the_command_line(monkeypatch, capsys, tmp_path, desk):
    data_dir = tmp_path / "cli"
    data_dir.mkdir()
    RunStore(f"sqlite:///{data_dir / 'tradeops.db'}").close()
    seed_stack_datasets(FolderObjectStore(data_dir / "objects"))  # what the market-data CronJob keeps there
    monkeypatch.setattr(engines, "open_engine", lambda: desk.engine)
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("TRADEOPS_MCP_TOKENS", "octocat=octocat-token-0123456789")  # the desk's principals
    monkeypatch.setenv("TRADEOPS_APPROVER_TOKEN", "octocat-token-0123456789")  # the approver's own
    candidate = Candidate.model_validate(stack_config("staging")["tradeops:settings"]["candidate"])
    session = f"tradeops-staging-{candidate_hash(candidate)[:12]}"  # as the program names staging's session
    ledger = open_ledger(f"sqlite:///{tmp_path / 'staging-ledger.db'}", session)
    monkeypatch.setenv("TRADEOPS_PROMOTION_LEDGER_URL", f"sqlite:///{tmp_path / 'staging-ledger.db'}")
    tools = dataclasses.replace(desk.tools, releases=ReleaseStore(FolderObjectStore(data_dir / "objects")))
    staged = deploy(plan("v1"), tools)
    ledger.soaked(staged.finished_at, 30)
    bundle = staged.bundle_id
    targets = [arg for name, url in desk.cluster.urls.items() for arg in ("--target", f"{name}={url}")]
    promote = ["promote", "--from", "staging", "--to", "prod", *targets, "--override", "drill: promotion runbook"]

    code, out, _ = cli(monkeypatch, capsys, "releases", "show", bundle)
    assert code == 0 and out.startswith(f"bundle {bundle}  (verified)")
    assert 'strategy    sma_cross {"fast": 10, "slow": 30}' in out and "data        dataset:binance-btcusdt-1d" in out
    assert "staging  deploy   v1" in out

    code, out, err = cli(monkeypatch, capsys, *promote, "--json")
    assert code == 2 and json.loads(out)["status"] == "inconclusive"  # waits for its approval
    assert "approvals   inconclusive 0 of 1 approval(s) for prod" in err and "INCONCLUSIVE" in err

    code, _, err = cli(monkeypatch, capsys, "bundles", "approve", bundle)
    assert code == 0 and f"token:octocat approved {bundle} for prod" in err
    code, _, err = cli(monkeypatch, capsys, *promote)
    assert code == 0 and "prod: promote v1 succeeded" in err and bundle in err, err
    (release,) = ReleaseStore(FolderObjectStore(data_dir / "objects")).history("prod")
    assert release.bundle_id == bundle and [a.who for a in release.approvals] == ["token:octocat"]

    code, out, _ = cli(monkeypatch, capsys, "releases", "show", release.id)
    shown = json.loads(out)
    assert code == 0 and shown["bundle_id"] == bundle and shown["approvals"][0]["source"] == "cli"
    code, out, _ = cli(monkeypatch, capsys, "releases", "show", bundle)
    assert "prod     promote  v1" in out and "token:octocat via cli for prod" in out

    code, _, err = cli(monkeypatch, capsys, "bundles", "check", "--stack", "prod", *targets)
    assert code == 0, err
    code, _, err = cli(
        monkeypatch, capsys, "bundles", "reverify", "--stack", "staging", "--data", "sample:synthetic?bars=120"
    )
    assert code == 1 and f"{bundle}: REVOKED: thresholds not met" in err
    code, _, err = cli(monkeypatch, capsys, *promote)
    assert code == 1 and "gate        failed" in err and "is revoked" in err

    for args, message in (
        (["releases"], "releases needs --stack NAME"),
        (["releases", "show", "release-nope"], "no release or bundle 'release-nope'"),
        (["releases", "show", "bundle-nope"], "no bundle 'bundle-nope'"),
        (["promote", "--from", "staging", "--to", "staging"], "stack 'staging' has no promotion policy"),
        (["promote", "--from", "dev", "--to", "prod"], "prod takes bundles from staging, not dev"),
    ):
        code, _, err = cli(monkeypatch, capsys, *args)
        assert code == 2 and message in err, (args, err)


@pytest.mark.req("DC-22")
def test_dc_22_approvals_are_recorded_from_a_pull_request_s_approving_reviews(monkeypatch, capsys, tmp_path):
    github = FakeGitHub(GITHUB_TOKEN, {GITHUB_REPO})
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("TRADEOPS_GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", GITHUB_REPO)
    bundles = BundleStore(FolderObjectStore(tmp_path / "objects"))
    bundle = bundles.save(CONTENT).id
    github.add_pull(GITHUB_REPO, 7, head_sha=CONTENT.git_sha)
    github.add_pull(GITHUB_REPO, 8, head_sha=CONTENT.git_sha)
    github.add_review(GITHUB_REPO, 7, "alice", "APPROVED")
    github.add_review(GITHUB_REPO, 7, "bob", "APPROVED")
    github.add_review(GITHUB_REPO, 7, "bob", "CHANGES_REQUESTED")  # bob withdrew
    github.add_review(GITHUB_REPO, 7, "carol", "COMMENTED")
    github.add_review(GITHUB_REPO, 8, "dave", "COMMENTED")
    try:
        code, _, err = cli(monkeypatch, capsys, "bundles", "approve", bundle, "--pr", "7")
        assert code == 0 and f"github:alice approved {bundle} for prod (review of #7)" in err
        assert [(a.who, a.source) for a in bundles.get(bundle).approvals_for("prod")] == [
            ("github:alice", "pull-request")
        ]
        code, _, err = cli(monkeypatch, capsys, "bundles", "approve", bundle, "--pr", "8")
        assert code == 2 and f"{GITHUB_REPO}#8 has no approving review" in err
        monkeypatch.setenv("TRADEOPS_GITHUB_TOKEN", "wrong-token")
        code, _, err = cli(monkeypatch, capsys, "bundles", "approve", bundle, "--pr", "7")
        assert code == 2 and "GitHub refused pull request acme/tradeops#7 (401): Bad credentials" in err
    finally:
        github.stop()
