"""actionlint checks the workflows and hadolint the Dockerfile, each the real binary: zero findings (DC-55).

A suppression is allowed only with a written reason beside it; today there is none."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
DOCKERFILE = ROOT / "apps" / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
HADOLINT_IGNORE = re.compile(r"#\s*hadolint\s+ignore=")


def tool(name: str) -> str:
    """The binary in the suite's venv (the pip packages of the dev extra ship it), else on PATH; never skipped."""
    found = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make setup`")
    return found


def actionlint(*paths: Path) -> list[dict]:
    """actionlint's findings as JSON, with shellcheck checking every `run:` script."""
    command = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), "-format", "{{json .}}"]
    done = subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr  # 0: clean, 1: findings; anything else is a broken run
    findings = json.loads(done.stdout or "[]")
    assert (done.returncode == 1) == bool(findings), done.stdout + done.stderr
    return findings


def hadolint(path: Path) -> list[dict]:
    """hadolint's findings at every level (style included) as JSON."""
    command = [tool("hadolint"), "--no-color", "--format", "json", "--failure-threshold", "style", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout or "[]")
    assert (done.returncode == 1) == bool(findings), done.stdout + done.stderr
    return findings


@pytest.mark.req("DC-55")
def test_dc_55_actionlint_finds_nothing_in_any_workflow():
    assert len(WORKFLOWS) == 5
    findings = actionlint(*WORKFLOWS)
    assert findings == [], [f"{f['filepath']}:{f['line']}: {f['message']}" for f in findings]


@pytest.mark.req("DC-55")
def test_dc_55_actionlint_reports_an_action_on_the_deprecated_node20_runtime(tmp_path):
    workflow = (ROOT / ".github/workflows/pr.yml").read_text()
    assert "actions/checkout@v7" in workflow
    old = tmp_path / "pr.yml"
    old.write_text(workflow.replace("actions/checkout@v7", "actions/checkout@v4"))
    findings = actionlint(old)
    assert len(findings) == workflow.count("actions/checkout@v7") == 3
    assert all(f["kind"] == "action" and "node20" in f["message"] for f in findings)


@pytest.mark.req("DC-55")
def test_dc_55_hadolint_finds_nothing_in_the_dockerfile_and_every_ignore_has_a_reason():
    findings = hadolint(DOCKERFILE)
    assert findings == [], [f"{f['line']}: {f['code']} {f['message']}" for f in findings]
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if HADOLINT_IGNORE.search(line):
            reason = HADOLINT_IGNORE.split(line)[0].strip("# ") or lines[number - 1].strip("# ")
            assert len(reason) > 30, f"apps/Dockerfile:{number + 1}: a hadolint ignore without a reason"


@pytest.mark.req("DC-55")
def test_dc_55_hadolint_reports_an_unpinned_pip_install(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim-bookworm\nRUN pip install --no-cache-dir tradeops\nUSER 10001\n")
    assert [f["code"] for f in hadolint(dockerfile)] == ["DL3013"]
