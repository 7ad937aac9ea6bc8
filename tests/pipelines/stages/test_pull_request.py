"""The pull-request stages on a change to the prod stack: changed stacks, the real gate, the preview, one comment."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from pipelines.deploy.engine import Target
from pipelines.infra.evaluate import STACKS, stack_config
from pipelines.stages.changes import affected_stacks, changed_files, changed_stacks
from pipelines.stages.comment import MARKER, comment_body

from tests.apps.cli.test_cli import cli
from tests.fakes.exchange import seed_stack_datasets
from tests.pipelines.stages.conftest import REPO, TOKEN
from tradeops.store.objects import FolderObjectStore


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.req("DC-3")
def test_dc_3_changed_stack_files_pick_the_stacks_to_gate_and_program_changes_preview_all(tmp_path):
    (tmp_path / "infra/stacks").mkdir(parents=True)
    prod = tmp_path / "infra/stacks/Pulumi.prod.yaml"
    prod.write_text((STACKS / "Pulumi.prod.yaml").read_text())
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "base")
    _git(tmp_path, "checkout", "-qb", "change")
    prod.write_text(prod.read_text().replace("min_sharpe: 0.7", "min_sharpe: 0.6"))

    files = changed_files("main", cwd=tmp_path)

    assert files == ["infra/stacks/Pulumi.prod.yaml"]
    assert changed_stacks(files) == ["prod"] and affected_stacks(files) == ["prod"]
    assert affected_stacks([*files, "infra/components/image.py"]) == ["dev", "prod", "staging"]
    assert changed_stacks(["infra/stacks/Pulumi.gone.yaml", "README.md"]) == []


@pytest.mark.req("DC-3", "DC-6")
def test_dc_3_dc_6_the_pr_stages_on_a_prod_change_post_one_comment_with_the_preview_and_the_real_verdict(
    monkeypatch, capsys, tmp_path, engine, github
):
    deployed = stack_config("prod")["tradeops:settings"]
    engine.up(Target("prod", "v0", "0" * 40, deployed, "the running release"))
    changed = yaml.safe_load((STACKS / "Pulumi.prod.yaml").read_text())["config"]["tradeops:settings"]
    assert changed == deployed  # the stack file of the change is what the stages read
    out = tmp_path / "pipeline"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))  # the gate reads datasets from its object store
    seed_stack_datasets(FolderObjectStore(tmp_path / "data" / "objects"), ("prod",))
    monkeypatch.setenv("TRADEOPS_GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("TRADEOPS_GITHUB_API_URL", github.base_url)
    github.add_comment(REPO, 7, "looks good to me")

    code, _, err = cli(monkeypatch, capsys, "pipeline", "gate", "--stack", "prod", "--out", str(out))
    assert code == 0 and "gate prod: passed (exit 0)" in err
    code, _, err = cli(monkeypatch, capsys, "pipeline", "preview", "--stack", "prod", "--out", str(out))
    assert code == 0 and "preview prod:" in err
    for _ in range(2):  # a second run edits the same comment
        code, _, err = cli(monkeypatch, capsys, "pipeline", "comment", "--repo", REPO, "--pr", "7", "--out", str(out))
        assert code == 0

    mine = [c for c in github.thread(REPO, 7) if MARKER in c["body"]]
    assert len(mine) == 1 and len(github.thread(REPO, 7)) == 2
    body = mine[0]["body"]
    verdict = json.loads((out / "gate-prod.json").read_text())
    preview = json.loads((out / "preview-prod.json").read_text())
    assert preview["changes"]["update"] > 0 and preview["changes"]["same"] > 0  # the new version relabels resources
    assert f"| prod | {preview['summary']} |" in body and "ready to merge" in body
    assert "#### Gate `prod`: **passed** (exit 0)" in body
    for check in verdict["checks"]:
        assert f"| {check['name']} | {check['group']} |" in body
    assert "min_sharpe" in body and "gate-prod.html" in body and "preview-prod.json" in body
    assert [c for c, _ in engine.calls] == ["up", "preview"] and engine.calls[1][1].stack == "prod"


@pytest.mark.req("DC-3")
def test_dc_3_a_failed_gate_or_preview_blocks_the_comment_and_it_stays_under_the_limit(tmp_path):
    out = tmp_path
    verdict = {"stack": "prod", "passed": False, "exit_code": 1, "error": None, "checks": [
        {"name": "min_sharpe", "group": "profitability", "value": 0.41, "limit": 0.7, "passed": False}]}  # fmt: skip
    (out / "gate-prod.json").write_text(json.dumps(verdict))
    (out / "gate-dev.json").write_text(
        json.dumps({"stack": "dev", "passed": False, "exit_code": 2, "error": "bad data"})
    )
    failed = {"stack": "staging", "changes": {}, "summary": "preview failed", "changed": None, "error": "x" * 100_000}
    (out / "preview-staging.json").write_text(json.dumps(failed))

    body = comment_body(out, run_url="https://ci/run/1", sha="a" * 40)

    assert "**blocked**: dev, prod, staging" in body
    assert "| min_sharpe | profitability | 0.41 | 0.7 | **FAIL** |" in body
    assert "**UNDECIDED** (exit 2)" in body and "> bad data" in body
    assert "x" * 1_000 in body and "x" * 1_001 not in body
    short = comment_body(out, run_url=None, sha="a" * 40, limit=600)
    assert len(short) + len(MARKER) + 1 < 600 and short.endswith("comment limit; the full reports are linked above)\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "No stack is affected" in comment_body(empty, run_url=None, sha="b" * 40)


def test_the_comment_stage_needs_a_repository_a_pull_request_and_a_token(monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    code, _, err = cli(monkeypatch, capsys, "pipeline", "comment", "--pr", "7")
    assert code == 2 and "TRADEOPS_GITHUB_TOKEN" in err


@pytest.mark.req("DC-22")
def test_dc_22_the_comment_names_the_bundle_each_stack_runs_and_how_to_approve_staging_s(tmp_path):
    running = {"staging": ("v2", "bundle-" + "b" * 24), "prod": ("v1", "bundle-" + "a" * 24), "dev": ("v2", None)}
    body = comment_body(tmp_path, run_url=None, sha="c" * 40, running=running)
    assert "| staging | v2 | `bundle-bbbbbbbbbbbbbbbbbbbbbbbb` |" in body and "| dev | v2 | `none` |" in body
    assert "approve with `/trading approve bundle-bbbbbbbbbbbbbbbbbbbbbbbb`" in body
    same = running | {"prod": running["staging"]}
    assert "/trading approve" not in comment_body(tmp_path, run_url=None, sha="c" * 40, running=same)
