"""The GitHub Actions workflows validate against GitHub's workflow schema and only call pipeline stages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pipelines.infra.evaluate import stack_names
from pipelines.stages.cli import app as pipeline_app
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
STAGES = {command.name for command in pipeline_app.registered_commands}
RUN = re.compile(r"^(make setup|\.venv/bin/tradeops pipeline (?P<stage>[a-z-]+)(?: .*)?)$")


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())  # YAML 1.2, as GitHub reads it: `on` stays a string


def check_schema(*paths: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the GitHub workflow schema it vendors (offline)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, check=False)


@pytest.mark.req("DC-3", "DW-5")
def test_dc_3_dw_5_every_workflow_validates_against_the_github_workflow_schema(tmp_path):
    assert {p.stem for p in WORKFLOWS} == {"pr", "main", "rollback", "drift", "promote"}
    done = check_schema(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on:", "runs_on:", 1))
    done = check_schema(broken)
    assert done.returncode == 1 and "runs-on" in done.stdout


@pytest.mark.req("DC-3")
def test_dc_3_every_run_step_calls_only_a_pipeline_stage_and_every_job_it_needs_exists():
    used = set()
    for path in WORKFLOWS:
        jobs = load(path)["jobs"]
        for name, job in jobs.items():
            needs = job.get("needs", [])
            assert set([needs] if isinstance(needs, str) else needs) <= set(jobs), (path.name, name)
            for step in job["steps"]:
                if "run" in step:
                    match = RUN.match(step["run"].strip())
                    assert match, f"{path.name}/{name}: `{step['run']}` is not a pipeline stage"
                    assert match["stage"] in (STAGES | {None}), f"{path.name}: no stage {match['stage']}"
                    used.add(match["stage"])
                else:
                    assert re.match(r"^[\w-]+/[\w-]+@v\d+$", step["uses"]), step["uses"]  # pinned major versions
    assert used - {None} == STAGES  # every stage runs in CI


@pytest.mark.req("DC-3")
def test_dc_3_the_flows_pr_checks_staged_deploys_with_approval_rollback_on_demand_and_a_drift_schedule():
    pr, main, rollback, drift = (load(ROOT / f".github/workflows/{n}.yml") for n in ("pr", "main", "rollback", "drift"))
    assert pr["on"]["pull_request"]["branches"] == ["main"] and pr["permissions"]["pull-requests"] == "write"
    assert set(pr["jobs"]["comment"]["needs"]) == {"checks", "gate-and-preview"}
    assert pr["jobs"]["comment"]["if"] == "always()"
    assert main["on"]["push"]["branches"] == ["main"]
    assert list(main["jobs"]) == ["deploy-staging"]  # a merge deploys staging only: prod runs promoted bundles
    assert "--stack staging" in main["jobs"]["deploy-staging"]["steps"][-2]["run"]
    inputs = rollback["on"]["workflow_dispatch"]["inputs"]
    assert sorted(inputs["stack"]["options"]) == stack_names() and inputs["version"]["required"] is False
    assert (
        drift["on"]["schedule"][0]["cron"]
        and sorted(drift["jobs"]["drift"]["strategy"]["matrix"]["stack"]) == stack_names()
    )
    assert drift["jobs"]["drift"]["steps"][-1]["run"].endswith("--drift")


@pytest.mark.req("DC-22", "DC-3")
def test_dc_22_dc_3_promotion_to_prod_is_its_own_scheduled_and_dispatchable_workflow():
    promote = load(ROOT / ".github/workflows/promote.yml")
    assert promote["on"]["schedule"][0]["cron"] and set(promote["on"]["workflow_dispatch"]["inputs"]) == {
        "bundle",
        "override",
    }
    jobs = promote["jobs"]
    assert set(jobs["promote-prod"]["needs"]) == {"check-prod", "reverify-staging"}
    assert jobs["promote-prod"]["environment"] == jobs["check-prod"]["environment"] == "production"
    assert jobs["promote-prod"]["concurrency"]["group"] == jobs["check-prod"]["concurrency"]["group"] == "deploy-prod"
    step = jobs["promote-prod"]["steps"][-2]
    assert step["run"].startswith(".venv/bin/tradeops pipeline promote --from staging --to prod")
    assert set(step["env"]) == {"BUNDLE", "OVERRIDE"} and "${{" not in step["run"].split("--target")[0]
    assert "TRADEOPS_PROMOTION_LEDGER_URL" in jobs["promote-prod"]["env"]
    assert jobs["reverify-staging"]["steps"][-2]["run"] == ".venv/bin/tradeops pipeline reverify --stack staging"
    assert "post-deploy-check --stack prod" in jobs["check-prod"]["steps"][-2]["run"]
