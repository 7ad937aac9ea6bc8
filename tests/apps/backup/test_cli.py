"""The backup CLI contract other tools rely on."""

from __future__ import annotations

import json

import pytest

from tests.apps.backup.conftest import fill
from tests.apps.cli.test_cli import cli

pytestmark = pytest.mark.req("OE-1")


@pytest.fixture
def local(monkeypatch, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    fill(f"sqlite:///{tmp_path / 'data' / 'tradeops.db'}", runs=10)
    return tmp_path / "data"


def test_oe_1_create_list_verify_restore_prune_from_the_command_line(local, monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "backup", "create")
    first = out.strip()
    assert code == 0 and first.endswith(first[-6:]) and "T" in first
    code, out, _ = cli(monkeypatch, capsys, "backup", "create", "--kind", "restore-point", "--label", "v9", "--json")
    second = json.loads(out)
    assert code == 0 and second["id"] and second["kind"] == "restore-point" and second["tables"]["runs"] == 10
    code, out, err = cli(monkeypatch, capsys, "backup", "list", "--json")
    listed = json.loads(out)
    assert [b["id"] for b in listed] == [second["id"], first]
    assert set(listed[0]) >= {"id", "kind", "label", "created_at", "size_bytes", "sha256", "verified"}
    code, out, _ = cli(monkeypatch, capsys, "backup", "verify", first)
    assert code == 0 and "verified" in out
    code, out, err = cli(monkeypatch, capsys, "backup", "list")
    assert "verified" in out and "RPO (age of the newest verified backup)" in err
    code, _, err = cli(monkeypatch, capsys, "backup", "restore", first)
    assert code == 2 and "add --yes to confirm" in err
    code, out, _ = cli(monkeypatch, capsys, "backup", "restore", first, "--yes")
    assert code == 0 and "restored in" in out
    code, out, _ = cli(
        monkeypatch,
        capsys,
        "backup",
        "prune",
        "--dry-run",
        "--keep-last",
        "1",
        "--daily-days",
        "0",
        "--weekly-weeks",
        "0",
        "--restore-point-days",
        "0",
    )
    assert code == 0 and "keep    " in out and "would delete" not in out  # the other one is the newest verified
    kinds = [json.loads(line)["kind"] for line in (local / "notifications.log").read_text().splitlines()]
    assert kinds == ["backup_created", "backup_created", "restore_done"]


def test_oe_1_failures_exit_non_zero_and_notify(local, monkeypatch, capsys):
    code, _, err = cli(monkeypatch, capsys, "backup", "verify", "missing")
    assert code == 2 and "no backup 'missing'" in err
    assert json.loads((local / "notifications.log").read_text())["kind"] == "backup_verify_failed"
    (local / "tradeops.db").unlink()
    code, _, err = cli(monkeypatch, capsys, "backup", "create")
    assert code == 2 and "no such database file" in err
