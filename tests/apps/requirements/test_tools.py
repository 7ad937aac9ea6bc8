"""TF-5: tests generated from requirements (`scaffold`) and the catalog kept in step with the markers (`sync`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.apps.cli.test_cli import cli
from tests.apps.testreport.project import run, write

ROOT = Path(__file__).resolve().parents[3]

CATALOG = """
requirements:
- id: BT-1
  title: Passing
  text: it passes
  source: s
  priority: High
  status: implemented
  tests:
  - tests/test_old.py::test_bt_1_removed_long_ago
- id: BT-2
  title: Later
  text: not yet
  source: s
  priority: Low
  status: planned
"""

TESTS = """
    import pytest


    @pytest.mark.req("BT-1")
    def test_bt_1_one():
        pass


    @pytest.mark.req("BT-1", "BT-2")
    @pytest.mark.parametrize("x", [1, 2])
    def test_bt_1_bt_2_both(x):
        pass
"""


@pytest.mark.req("TF-5")
def test_tf_5_scaffold_writes_a_citing_test_that_fails_until_proven(tmp_path, monkeypatch, capsys):
    code, out, _ = cli(
        monkeypatch, capsys, "requirements", "scaffold", "BT-4", "--catalog", str(ROOT / "test_requirements.yaml")
    )
    assert code == 0 and '@pytest.mark.req("BT-4")' in out and "def test_bt_4_" in out
    target = tmp_path / "tests/test_scaffolded.py"
    target.parent.mkdir()
    code, _, err = cli(
        monkeypatch,
        capsys,
        "requirements",
        "scaffold",
        "BT-4",
        "--out",
        str(target),
        "--catalog",
        str(ROOT / "test_requirements.yaml"),
    )
    assert code == 0 and "fails until it proves it" in " ".join(err.split())
    assert target.read_text() == out
    # the real requirements plugin accepts its citation; the body fails with a clear message
    done = run(
        tmp_path,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.plugins.requirements",
        f"--rootdir={tmp_path}",
        str(target),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed: BT-4 not yet proven: replace this body with a test that proves it" in done.stdout
    assert "1 failed" in done.stdout


@pytest.mark.req("TF-5")
def test_tf_5_scaffold_refuses_unknown_ids_and_existing_files(tmp_path, monkeypatch, capsys):
    catalog = str(ROOT / "test_requirements.yaml")
    code, _, err = cli(monkeypatch, capsys, "requirements", "scaffold", "ZZ-9", "--catalog", catalog)
    assert code == 2 and "unknown requirement ZZ-9" in err
    existing = tmp_path / "test_mine.py"
    existing.write_text("# mine\n")
    code, _, err = cli(
        monkeypatch, capsys, "requirements", "scaffold", "BT-4", "--out", str(existing), "--catalog", catalog
    )
    assert code == 2 and "refusing to overwrite" in " ".join(err.split())
    assert existing.read_text() == "# mine\n"


@pytest.fixture(autouse=True)
def _quick_collection(monkeypatch):
    """The small projects here need no third-party pytest plugins: skip loading them (seconds per collection)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.mark.req("TF-5")
def test_tf_5_sync_rewrites_the_tests_lists_from_the_markers(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"test_requirements.yaml": CATALOG, "tests/test_new.py": TESTS})
    catalog = tmp_path / "test_requirements.yaml"
    args = ("requirements", "sync", "--catalog", str(catalog), "--root", str(tmp_path))
    code, out, _ = cli(monkeypatch, capsys, *args, "--check")
    assert code == 1
    assert out.splitlines() == [
        "BT-1: + tests/test_new.py::test_bt_1_bt_2_both",
        "BT-1: + tests/test_new.py::test_bt_1_one",
        "BT-1: - tests/test_old.py::test_bt_1_removed_long_ago",
        "BT-2: + tests/test_new.py::test_bt_1_bt_2_both",
    ]
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 0 and "4 change(s) written" in err
    data = yaml.safe_load(catalog.read_text())["requirements"]
    assert data[0]["tests"] == ["tests/test_new.py::test_bt_1_bt_2_both", "tests/test_new.py::test_bt_1_one"]
    assert data[1]["tests"] == ["tests/test_new.py::test_bt_1_bt_2_both"]
    assert data[0]["text"] == "it passes" and data[1]["status"] == "planned"  # the rest untouched
    code, _, err = cli(monkeypatch, capsys, *args, "--check")
    assert code == 0 and "0 difference(s)" in err


@pytest.mark.req("TF-5")
def test_tf_5_sync_names_unknown_ids_and_broken_collection(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"test_requirements.yaml": CATALOG, "tests/test_new.py": TESTS.replace('"BT-2"', '"ZZ-9"')})
    args = ("requirements", "sync", "--catalog", str(tmp_path / "test_requirements.yaml"), "--root", str(tmp_path))
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 2 and "tests cite requirements the catalog lacks: ZZ-9" in err
    code, out, _ = cli(monkeypatch, capsys, *args, "--check")
    assert code == 1 and "ZZ-9: cited by tests/test_new.py::test_bt_1_bt_2_both but not in the catalog" in out
    (tmp_path / "tests/test_new.py").write_text("def test_broken(:\n")
    code, _, err = cli(monkeypatch, capsys, *args)
    assert code == 2 and "collecting the tests failed" in err
    assert yaml.safe_load((tmp_path / "test_requirements.yaml").read_text()) == yaml.safe_load(CATALOG)
