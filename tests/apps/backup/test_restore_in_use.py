"""DC-16: a restore over a database a running service has open is refused (the file would be replaced under
it), says what it drops, and /readyz reports a database the service can no longer write to (real process)."""

from __future__ import annotations

import os
import shutil
import sys

import httpx
import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH, TOKEN
from tests.fakes.servers import tradeops_service

BACKTEST = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}}


@pytest.mark.req("DC-16")
def test_dc_16_restore_refuses_while_the_backtester_runs_and_readyz_sees_a_replaced_file(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    monkeypatch.setenv("TRADEOPS_API_TOKEN", TOKEN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TRADEOPS_WORKERS": "1"}
    with tradeops_service(["serve", "backtester"], env) as served, httpx.Client(base_url=served.base) as http:
        for _ in range(2):
            assert http.post("/v1/backtests", json=BACKTEST, headers=AUTH).status_code == 202
        code, out, _ = cli(monkeypatch, capsys, "backup", "create")
        assert code == 0
        backup = out.strip()
        for _ in range(5):
            assert http.post("/v1/backtests", json=BACKTEST, headers=AUTH).status_code == 202
        code, _, err = cli(monkeypatch, capsys, "backup", "restore", backup, "--yes")
        assert code == 2 and "in use by pid" in err and "serve backtester" in err, err
        assert http.post("/v1/backtests", json=BACKTEST, headers=AUTH).status_code == 202  # nothing was changed
        assert http.get("/readyz", timeout=10).status_code == 200
        # what the refused restore would have done: the file replaced under the running service
        database = data / "tradeops.db"
        shutil.copy(database, tmp_path / "copy.db")
        os.replace(tmp_path / "copy.db", database)
        unready = http.get("/readyz", timeout=10)
        assert unready.status_code == 503 and "replaced" in unready.json()["failed"]["database"], unready.text
    code, _, err = cli(monkeypatch, capsys, "backup", "restore", backup)
    assert code == 2 and "6 runs newer than the backup will be lost (8 now, 2 in it)" in err, err
    code, out, err = cli(monkeypatch, capsys, "backup", "restore", backup, "--yes")
    assert code == 0 and "6 runs newer than the backup will be lost" in err and "restored in" in out
