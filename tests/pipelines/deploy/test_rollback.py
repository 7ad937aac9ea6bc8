"""`tradeops rollback` and `tradeops releases`: a rollback is a deploy of an older release through the same path."""

from __future__ import annotations

import json
import shutil

import pytest
from pipelines.deploy.deployer import deploy, rollback
from pipelines.infra.evaluate import stack_config

from pipelines.deploy import engine as engines
from tests.apps.cli.test_cli import cli
from tests.fakes.exchange import seed_stack_datasets
from tests.fakes.kubernetes_api import FakeKubernetes
from tests.pipelines.deploy.conftest import plan
from tradeops.errors import ConfigError
from tradeops.releases import ReleaseStore
from tradeops.store import RunStore
from tradeops.store.objects import FolderObjectStore


def _replicas(n: int) -> dict:
    services = stack_config("staging")["tradeops:settings"]["services"]
    return {**services, "backtester": {"replicas": n}}


@pytest.mark.req("DW-1", "DC-3")
def test_dw_1_dc_3_rollback_deploys_the_previous_good_release_with_its_config_and_commit(desk):
    v1 = deploy(plan("v1", services=_replicas(1)), desk.tools)
    v2 = deploy(plan("v2", services=_replicas(2)), desk.tools)
    deploy(plan("v3", services={"backtester": {"replicas": 99}}), desk.tools)  # failed at validate: not a target
    desk.flush()

    back = rollback("staging", desk.tools)

    assert back.kind == "rollback" and back.version == "v1" and back.result == "succeeded"
    assert back.config == v1.config and back.git_sha == v1.git_sha and back.config != v2.config
    assert back.gate_reused and back.gate_verdict_id == v1.gate_verdict_id
    assert [s.name for s in back.steps] == ["validate", "gate", "restore-point", "cleanup", "up", "verify"]
    last_up = desk.engine.calls[-1][1]
    assert last_up.version == "v1" and last_up.settings == v1.config and last_up.git_sha == v1.git_sha
    assert back.changes.get("update", 0) > 0
    assert [(r.kind, r.version, r.result) for r in desk.releases.history("staging")] == [
        ("rollback", "v1", "succeeded"),
        ("deploy", "v3", "failed"),
        ("deploy", "v2", "succeeded"),
        ("deploy", "v1", "succeeded"),
    ]
    (message,) = desk.flush()
    assert message["text"].startswith("staging: rollback to v1 succeeded") and "reused" in message["text"]

    forward = rollback("staging", desk.tools, to="v2")
    assert forward.version == "v2" and forward.result == "succeeded"
    assert {h.git_sha for h in desk.cluster.health.values()} == {"v2"}


@pytest.mark.req("DW-1")
def test_dw_1_rollback_refuses_what_it_cannot_do(desk):
    with pytest.raises(ConfigError, match="no succeeded release: nothing to roll back from"):
        rollback("staging", desk.tools)
    v1 = deploy(plan("v1"), desk.tools)
    with pytest.raises(ConfigError, match="no good release before v1"):
        rollback("staging", desk.tools)
    with pytest.raises(ConfigError, match=r"no succeeded release 'v9' \(succeeded: v1\)"):
        rollback("staging", desk.tools, to="v9")
    deploy(plan("v2"), desk.tools)
    desk.releases.objects.delete(f"verdicts/staging/{v1.gate_verdict_id}.json")  # the evidence is gone

    refused = rollback("staging", desk.tools, to="v1")

    assert refused.result == "failed" and refused.failed_step == "gate" and "no gate verdict" in refused.error
    assert [c for c, t in desk.engine.calls if t.version == "v1"] == ["up"]  # only the original deploy


@pytest.mark.req("DW-1", "DC-3", "DC-6")
def test_dw_1_dc_3_dc_6_deploy_rollback_and_releases_from_the_command_line(
    monkeypatch, capsys, tmp_path, desk, fake_slack
):
    monkeypatch.setattr(engines, "open_engine", lambda: desk.engine)
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "cli"))
    (tmp_path / "cli").mkdir()
    RunStore(f"sqlite:///{tmp_path / 'cli' / 'tradeops.db'}").close()  # the database the restore points back up
    seed_stack_datasets(FolderObjectStore(tmp_path / "cli" / "objects"), ("staging",))
    monkeypatch.setenv("TRADEOPS_SLACK_TOKEN", "xoxb-test")
    monkeypatch.setenv("TRADEOPS_SLACK_CHANNEL", "#deploys")
    monkeypatch.setenv("TRADEOPS_SLACK_BASE_URL", fake_slack.base_url)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    kube = FakeKubernetes()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "ci",
        "clusters": [{"name": "ci", "cluster": {"server": kube.url}}],
        "contexts": [{"name": "ci", "context": {"cluster": "ci", "user": "ci"}}],
        "users": [{"name": "ci", "user": {"token": "t"}}],
    }))  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    targets = [arg for name, url in desk.cluster.urls.items() for arg in ("--target", f"{name}={url}")]
    common = ["--stack", "staging", *targets, "--verify-timeout", "2"]

    for version in ("v1", "v2"):
        code, _, err = cli(monkeypatch, capsys, "deploy", "--version", version, *common)
        assert code == 0 and f"staging: deploy {version} succeeded" in err and "cleanup" in err, err
    code, _, err = cli(monkeypatch, capsys, "rollback", *common)
    assert code == 0 and "staging: rollback v1 succeeded" in err
    code, out, _ = cli(monkeypatch, capsys, "releases", "--stack", "staging", "--json")
    history = json.loads(out)
    assert [(r["kind"], r["version"], r["result"], r["who"]) for r in history] == [
        ("rollback", "v1", "succeeded", "octocat"),
        ("deploy", "v2", "succeeded", "octocat"),
        ("deploy", "v1", "succeeded", "octocat"),
    ]
    assert all(r["restore_point"] and r["duration_seconds"] > 0 for r in history)
    code, out, _ = cli(monkeypatch, capsys, "releases", "--stack", "staging")
    assert code == 0 and "| rollback | v1      | succeeded | reused |" in out.replace("│", "|")
    code, _, err = cli(monkeypatch, capsys, "rollback", "--stack", "staging", "--to", "v7")
    assert code == 2 and "no succeeded release 'v7'" in err
    desk.cluster.stuck.add("trader")
    code, _, err = cli(monkeypatch, capsys, "deploy", "--version", "v3", *common)
    assert code == 1 and "ROLLED BACK" in err
    stored = ReleaseStore(FolderObjectStore(tmp_path / "cli" / "objects")).history("staging")
    assert stored[1].version == "v3" and stored[1].result == "rolled back"
    texts = [m["text"] for m in fake_slack.posted()]
    assert "staging: release v3 failed at verify; rolled back automatically to v1" in texts[-1]
    kube.stop()


def test_the_real_engine_says_the_pulumi_cli_is_missing(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # git, but no pulumi here
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, _, err = cli(monkeypatch, capsys, "deploy", "--stack", "dev", "--no-restore-point")
    # a missing dependency (docs/README.md, exit codes): found before the deploy starts, one line, exit 2
    assert code == 2 and err.startswith("error: the pulumi CLI is not on PATH") and len(err.splitlines()) == 1
    assert ReleaseStore(FolderObjectStore(tmp_path / "objects")).history("dev") == []  # nothing was started


@pytest.mark.req("DC-14", "DW-1")
def test_dc_14_dw_1_a_rollback_reuses_a_verdict_only_on_the_same_data_version(desk):
    from tradeops.data.datasets import DatasetStore
    from tradeops.data.imports import bars_to_frames

    v1 = deploy(plan("v1", services=_replicas(1)), desk.tools)
    deploy(plan("v2", services=_replicas(2)), desk.tools)
    assert v1.data is not None and v1.data["dataset"] == "binance-btcusdt-1d"
    store = DatasetStore(desk.releases.objects)
    judged = store.versions("binance-btcusdt-1d")[-1]
    from tradeops.data import load_bars

    bars = load_bars(f"dataset:binance-btcusdt-1d@{judged.version}", objects=desk.releases.objects)
    newer, _ = store.write("binance-btcusdt-1d", bars_to_frames(bars.head(bars.n_bars - 5)), timeframe="1d", source="t")
    desk.flush()

    back = rollback("staging", desk.tools)

    assert back.result == "succeeded" and not back.gate_reused and back.gate_verdict_id != v1.gate_verdict_id
    gate = next(step for step in back.steps if step.name == "gate")
    assert gate.status == "ok" and f"version {judged.version}, which is now {newer.version}" in gate.detail
    assert back.data is not None and back.data["version"] == newer.version
