"""Rendered manifests pass the Kubernetes schema (strict) and checkov; the Dockerfile passes checkov."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pipelines.infra.render import api_version, write
from pipelines.stages.render_scan import CUSTOM_RESOURCES

from tests.infra.conftest import STACKS

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.31.0"
CHECKOV = Path(os.environ.get("TRADEOPS_CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))


def checkov(*args: str) -> dict:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make test` (it creates .venv-checkov)")
    done = subprocess.run(
        [str(CHECKOV), *args, "--skip-download", "--output", "json"], capture_output=True, text=True, timeout=600
    )
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, evaluations) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("manifests")
    for name in STACKS:
        write(evaluations[name], root / name)
    return {name: root / name for name in STACKS}


@pytest.mark.req("DC-1", "SM-4")
@pytest.mark.parametrize("stack", STACKS)
def test_dc_1_sm_4_every_manifest_is_valid_against_the_kubernetes_schema(rendered, stack):
    files = sorted(rendered[stack].glob("*.yaml"))
    assert len(files) >= 50
    for path in files:
        document = yaml.safe_load(path.read_text())
        if document["apiVersion"] in CUSTOM_RESOURCES:  # no Kubernetes schema: test_monitoring_selection checks them
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.req("DC-1")
def test_dc_1_schema_validation_rejects_an_unknown_field(rendered):
    deployment = yaml.safe_load(next(rendered["dev"].glob("deployment-*.yaml")).read_text())
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError, match="imagePolicy"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.req("DC-1", "DW-2")
@pytest.mark.parametrize("stack", STACKS)
def test_dc_1_dw_2_checkov_finds_nothing_and_every_suppression_has_a_reason(rendered, stack):
    report = checkov("--directory", str(rendered[stack]), "--framework", "kubernetes")
    summary = report["summary"]
    failed = [(f["check_id"], f["resource"]) for f in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 400 and summary["parsing_errors"] == 0
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"]["suppress_comment"]) > 30, skipped["check_id"]


@pytest.mark.req("DW-2")
def test_dw_2_the_dockerfile_is_multi_stage_non_root_and_passes_checkov():
    text = (ROOT / "apps/Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2 and stages[1].endswith("AS runtime")
    runtime = text.split("AS runtime", 1)[1]
    assert "USER 10001" in runtime and "HEALTHCHECK" in runtime and "tradeops warmup" in runtime
    assert "gcc" not in runtime and "build-essential" not in runtime
    assert (ROOT / ".dockerignore").read_text().startswith("#")
    report = checkov("--file", str(ROOT / "apps/Dockerfile"), "--framework", "dockerfile")
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] > 20


@pytest.mark.req("DC-1")
def test_dc_1_render_command_writes_every_stack(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    code, _, err = cli(monkeypatch, capsys, "infra", "render", "--stack", "all", "--out", str(tmp_path))
    assert code == 0 and {p.name for p in tmp_path.iterdir()} == set(STACKS)
    assert "prod: wrote" in err
    code, _, err = cli(monkeypatch, capsys, "infra", "render", "--stack", "nope", "--out", str(tmp_path / "x"))
    assert code == 2 and "no stack 'nope'" in err
    assert api_version("kubernetes:helm.sh/v3:Release") is None and api_version("docker:index/image:Image") is None
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "Pulumi.dev.yaml").write_text("precious")
    code, _, err = cli(monkeypatch, capsys, "infra", "render", "--stack", "dev", "--out", str(keep))
    assert code == 2 and "was not written by `tradeops infra render`" in err
    assert (keep / "Pulumi.dev.yaml").read_text() == "precious"
