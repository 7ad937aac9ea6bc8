"""WS-2: no unused code in apps/, infra/ and pipelines/; every exception to the check says why."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def vulture(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vulture", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.req("WS-2")
def test_ws_2_the_tree_has_no_unused_code():
    done = vulture()  # paths and exceptions from [tool.vulture] in pyproject.toml, as `make lint` runs it
    assert done.returncode == 0 and done.stdout == "", f"unused code:\n{done.stdout}{done.stderr}"


@pytest.mark.req("WS-2")
def test_ws_2_the_check_finds_unused_functions_imports_and_attributes(tmp_path):
    (tmp_path / "module.py").write_text(
        "import json\n\n\ndef used():\n    return 1\n\n\ndef forgotten():\n    return 2\n\n\n"
        "class Box:\n    def __init__(self):\n        self.lid = used()\n"
    )
    done = vulture("module.py", "--min-confidence", "60", cwd=tmp_path)
    assert done.returncode == 3
    assert "module.py:1: unused import 'json'" in done.stdout
    assert "module.py:8: unused function 'forgotten'" in done.stdout
    assert "unused attribute 'lid'" in done.stdout and "'used'" not in done.stdout


@pytest.mark.req("WS-2")
def test_ws_2_every_exception_says_why_and_still_matches_code():
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.vulture]", 1)[1].split("\n[", 1)[0]
    config = tomllib.loads("[tool.vulture]" + section)["tool"]["vulture"]
    entries = [line for line in section.splitlines() if line.strip().startswith('"') and line.strip() != '"]']
    assert len(entries) == len(config["ignore_names"]) + len(config["ignore_decorators"])
    for line in entries:
        reason = line.split("#", 1)[1].strip() if "#" in line else ""
        assert len(reason.split()) >= 4, f"no reason given: {line.strip()}"
    source = "\n".join(p.read_text() for d in ("apps", "infra", "pipelines") for p in (ROOT / d).rglob("*.py"))
    for name in config["ignore_names"] + config["ignore_decorators"]:
        pattern = re.escape(name).replace(r"\*", r"\w*")
        assert re.search(rf"(?<!\w){pattern}\b", source), f"[tool.vulture] ignores {name}, which no code has"
