"""validate, test, render-and-scan, map, drift and notify: each stage on real inputs, with its failure."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pipelines.deploy.engine import Target
from pipelines.infra.evaluate import evaluate, stack_config
from pipelines.stages.run_tests import run_tests

from pipelines.stages import render_scan, validate
from tests.apps.cli.test_cli import cli


@pytest.mark.req("DW-4")
def test_dw_4_validate_passes_the_stacks_and_finds_policy_breaks_and_committed_secrets(monkeypatch, capsys, tmp_path):
    code, _, err = cli(monkeypatch, capsys, "pipeline", "validate", "--stack", "dev")
    assert code == 0 and "validate: ok" in err
    evaluation = evaluate("dev")
    deployment = next(r for r in evaluation.resources if r.name == "backtester-deployment")
    del deployment.outputs["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    evaluation.components.trader.waits_for = ()
    problems = validate.policy_problems(evaluation)
    assert any("backtester-deployment" in p and "readiness probes" in p for p in problems)
    assert any("trader Deployment must depend on the gate Job" in p for p in problems)
    (tmp_path / "settings.env").write_text("AWS_KEY=" + "AKIA" + "ABCDEFGHIJKLMNOP\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    assert validate.secret_findings(tmp_path) == ["settings.env:1: looks like a AWS access key"]


@pytest.mark.req("DW-4")
def test_dw_4_validate_names_the_bad_key_of_a_stack_config(monkeypatch):
    settings = stack_config("dev")["tradeops:settings"] | {"gate_timeout_seconds": 5}
    monkeypatch.setattr(validate, "stack_config", lambda stack: {"tradeops:settings": settings})
    (problem,) = validate.config_problems("dev")
    assert problem.startswith("dev: tradeops:settings is invalid") and "gate_timeout_seconds" in problem


def test_the_test_stage_runs_the_command_and_summarises_its_reports(tmp_path):
    (tmp_path / "test_sample.py").write_text("def test_ok():\n    pass\n\ndef test_broken():\n    assert 1 == 2\n")
    command = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=reports/junit.xml")
    summary = run_tests(command, cwd=tmp_path)
    assert summary["exit_code"] == 1 and summary["tests"] == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}
    assert set(summary["reports"]) == {"junit"} and "coverage" in summary["missing"]
    (tmp_path / "reports/coverage.xml").write_text('<coverage line-rate="0.9612"></coverage>')
    assert run_tests(command, cwd=tmp_path)["coverage_pct"] == 96.12


def test_render_and_scan_validates_the_manifests_and_reports_a_schema_break_and_a_missing_checkov(
    monkeypatch, tmp_path
):
    result = render_scan.render_and_scan("dev", tmp_path / "dev")
    assert result["problems"] == [] and result["manifests"] > 50
    assert result["checkov"]["failed"] == 0 and result["checkov"]["passed"] > 400
    broken = next((tmp_path / "dev").glob("deployment-*.yaml"))
    broken.write_text(broken.read_text().replace("replicas:", "replicaCount:"))
    assert any("replicaCount" in p for p in render_scan.schema_problems(tmp_path / "dev"))
    monkeypatch.setenv("TRADEOPS_CHECKOV", str(tmp_path / "no-checkov"))
    assert "checkov is not installed" in render_scan.checkov(tmp_path / "dev")["error"]


def test_the_map_stage_checks_the_generated_files(monkeypatch, capsys, tmp_path):
    code, _, err = cli(monkeypatch, capsys, "pipeline", "map")
    assert code == 0 and "map: ok" in err


@pytest.mark.req("DC-6")
def test_dc_6_the_drift_check_finds_an_out_of_band_change_and_tells_slack(monkeypatch, capsys, engine, slack_env):
    settings = stack_config("prod")["tradeops:settings"]
    sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    engine.up(Target("prod", sha[:12], sha, settings, "deployed"))
    code, _, err = cli(monkeypatch, capsys, "pipeline", "preview", "--stack", "prod", "--drift")
    assert code == 0 and slack_env.posted() == []
    engine.drift("prod", "trader-deployment")  # someone scaled the trader by hand

    code, _, err = cli(monkeypatch, capsys, "pipeline", "preview", "--stack", "prod", "--drift")

    assert code == 1 and "no changes were expected" in err
    assert engine.calls[-1][0] == "preview"
    (message,) = slack_env.posted()
    assert message["text"].startswith("prod: drift detected") and "no changes were expected" in message["text"]


@pytest.mark.req("DC-6")
def test_dc_6_a_failed_ci_job_is_posted_to_slack(monkeypatch, capsys, slack_env):
    code, _, _ = cli(
        monkeypatch, capsys, "pipeline", "notify", "--workflow", "main", "--job", "deploy-prod",
        "--url", "https://github.com/acme/tradeops/actions/runs/1", "--ref", "main",
    )  # fmt: skip
    assert code == 0
    (message,) = slack_env.posted()
    assert message["text"].startswith("CI job deploy-prod of main failed")
    assert "ref: main" in message["text"] and "actions/runs/1" in message["text"]


@pytest.mark.req("DC-6", "DW-1")
def test_dc_6_dw_1_drift_is_judged_against_the_running_release_not_the_newest_commit(
    monkeypatch, capsys, engine, slack_env
):
    from datetime import UTC, datetime

    from tradeops.releases import Release, ReleaseStore
    from tradeops.settings import load_settings
    from tradeops.store import open_object_store

    running = stack_config("prod")["tradeops:settings"] | {"gate_timeout_seconds": 1500}  # not what HEAD says
    sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    engine.up(Target("prod", "v0.9", sha, running, "rolled back to v0.9"))
    settings = load_settings()
    now = datetime.now(UTC)
    ReleaseStore(open_object_store(settings.resolved_object_store)).save(
        Release(
            id="rollback-1", stack="prod", kind="rollback", version="v0.9", git_sha=sha, config=running,
            result="succeeded", started_at=now, finished_at=now, who="ops",
        )
    )  # fmt: skip
    code, _, err = cli(monkeypatch, capsys, "pipeline", "preview", "--stack", "prod", "--drift")
    assert code == 0 and slack_env.posted() == [], err  # HEAD differs, but the stack is as released
    ((_, target),) = [call for call in engine.calls if call[0] == "preview"]
    assert target.version == "v0.9" and target.settings == running
