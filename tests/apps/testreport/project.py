"""A tiny real project in a temporary folder: its own tests, run by a real pytest and coverage in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

INNER_TESTS = """
    import time

    import pytest


    @pytest.fixture
    def broken():
        raise RuntimeError("fixture broke")


    @pytest.mark.req("BT-1")
    def test_bt_1_passes_slowly():
        time.sleep(0.3)


    @pytest.mark.req("BT-2")
    @pytest.mark.parametrize("x", [1, 2])
    def test_bt_2_half_of_it_fails(x):
        assert x == 1, "two is not one"


    def test_skipped():
        pytest.skip("no cluster here")


    def test_errors(broken):
        pass
"""

CATALOG = """
requirements:
- {id: BT-1, title: Passing, text: it passes, source: s, priority: High, status: implemented,
   tests: [tests/test_inner.py::test_bt_1_passes_slowly]}
- {id: BT-2, title: Failing, text: it fails, source: s, priority: High, status: implemented,
   tests: [tests/test_inner.py::test_bt_2_half_of_it_fails]}
- {id: BT-3, title: Later, text: not yet, source: s, priority: Low, status: planned}
"""


REPO = Path(__file__).resolve().parents[3]


def clean_env() -> dict[str, str]:
    """The environment without the outer run's coverage hooks, so the inner tools measure only themselves;
    the repository on the path, so the inner run can load our own pytest plugin (`tests.plugins...`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE", "COVERAGE_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=root, env=clean_env(), capture_output=True, text=True)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())


def junit_run(root: Path) -> Path:
    """Run the inner suite with --junitxml; return the XML path (the suite fails on purpose)."""
    write(root, {"tests/test_inner.py": INNER_TESTS, "test_requirements.yaml": CATALOG})
    done = run(
        root,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "tradeops.requirements.collect",
        f"--rootdir={root}",
        "--junitxml=junit.xml",
        "tests",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return root / "junit.xml"
