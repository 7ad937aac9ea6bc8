"""`tradeops deploy` on a fresh checkout: nothing to back up yet is said and passes; a missing pulumi CLI is exit 2."""

from __future__ import annotations

import sys

import pytest
from pipelines.deploy.deployer import deploy

from tests.pipelines.deploy.conftest import plan
from tradeops.backup import BackupRepository
from tradeops.cli import main
from tradeops.store.objects import FolderObjectStore


@pytest.mark.req("DC-67")
def test_dc_67_a_first_deploy_with_no_database_file_yet_says_so_and_passes_restore_point(desk, tmp_path):
    missing = tmp_path / "fresh" / "tradeops.db"
    desk.tools.restore_points = BackupRepository(f"sqlite:///{missing}", FolderObjectStore(tmp_path / "objects"))
    release = deploy(plan("v1"), desk.tools)
    assert release.result == "succeeded", release.error
    step = next(s for s in release.steps if s.name == "restore-point")
    assert step.status == "skipped" and "nothing to back up yet" in step.detail and str(missing) in step.detail
    assert release.restore_point is None and not missing.exists()


@pytest.mark.req("DC-67")
def test_dc_67_deploy_without_the_pulumi_cli_exits_2_naming_it(monkeypatch, capsys, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no pulumi here (nor anything else: nothing may run before the check)
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "argv", ["tradeops", "deploy", "--stack", "dev"])
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert done.value.code == 2 and captured.out == "", captured
    assert len(lines) == 1 and lines[0].startswith("error: ") and "pulumi" in lines[0] and "PATH" in lines[0], lines
