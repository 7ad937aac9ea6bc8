"""The README and docs match the tree; the workspace holds only what belongs there."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = {
    "apps",
    "infra",
    "charts",
    "pipelines",
    "requirements",  # the hashed locks `make lock` writes (pipelines/lock.py)
    "docs",
    "tests",
    "system_map.yaml",
    "test_requirements.yaml",
    "Pulumi.yaml",
    "pyproject.toml",
    "README.md",
    "Makefile",
    ".ci",
    ".github",
    ".env.example",
    ".gitignore",
    ".dockerignore",
}


def tracked_files() -> list[str]:
    try:
        listing = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return listing.split()


def make_recipe(target: str) -> list[str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"Makefile has no {target} target"
    return [line.strip() for line in match.group(1).splitlines()]


@pytest.mark.req("WS-3", "DC-9")
def test_ws_3_dc_9_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "make test"
    assert make_recipe("run") and make_recipe("test")


@pytest.mark.req("WS-3")
def test_ws_3_readme_lists_every_cli_command():
    from tradeops.cli import command_tree

    readme = (ROOT / "README.md").read_text()
    names = [name for name in command_tree().commands if name != "version"]
    for name in names:
        assert f"tradeops {name}" in readme, f"README does not mention `tradeops {name}`"


@pytest.mark.req("DC-9")
def test_dc_9_the_main_job_runs_on_embedded_defaults(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    recipe = next(line for line in make_recipe("run") if "tradeops gate" in line)
    args = shlex.split(recipe.split("tradeops", 1)[1])
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(monkeypatch, capsys, *args)
    assert code == 0 and "PASSED" in out
    assert (tmp_path / "reports/gate-report.html").exists() and (tmp_path / "reports/verdict.json").exists()


@pytest.mark.req("WS-1")
def test_ws_1_documentation_lives_in_docs_and_every_link_resolves():
    markdown = [Path(f) for f in tracked_files() if f.endswith(".md")]
    stray = [str(p) for p in markdown if p.parts[0] != "docs" and p.name != "README.md"]
    assert not stray, f"Markdown outside docs/: {stray}"
    for page in [ROOT / p for p in markdown]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith(("http://", "https://")):
                assert (page.parent / target).exists(), f"{page}: broken link {target}"
    index = (ROOT / "docs/README.md").read_text()
    for doc in (ROOT / "docs").glob("*.md"):
        assert doc.name == "README.md" or f"({doc.name})" in index, f"docs/README.md does not index {doc.name}"


@pytest.mark.req("WS-5")
def test_ws_5_the_tree_holds_only_what_belongs_there():
    files = tracked_files()
    assert {f.split("/")[0] for f in files} <= TOP_LEVEL
    banned = re.compile(r"(__pycache__|\.pyc$|\.partial$|^reports/|\.venv|\.coverage$|\.egg-info)")
    assert not [f for f in files if banned.search(f)]
    assert "reports/" in (ROOT / ".gitignore").read_text()


@pytest.mark.req("DC-63")
def test_dc_63_make_test_runs_one_worker_per_core_with_every_gate():
    command = next(line for line in make_recipe("test") if "-m pytest" in line).split(";")[0].split()
    assert command[command.index("-n") + 1] == "auto" and command[command.index("--dist") + 1] == "worksteal"
    assert {"--requirements-strict", "--cov", "--junitxml=reports/junit.xml"} <= set(command)
    assert "--cov-report=xml:reports/coverage.xml" in command  # the 90% gate reads the workers' combined figure
