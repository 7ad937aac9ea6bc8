"""Crash-only: a trader killed with SIGKILL mid-run resumes from its ledger with nothing lost or repeated."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apps.trader.conftest import ledger
from tradeops.store.database import open_engine

DATA = "sample:synthetic?symbols=2&bars=500"
ARGS = ["replay", "--strategy", "sma_cross", "--param", "fast=5", "--param", "slow=20", "--data", DATA]
ARGS += ["--commission", "0.001", "--json"]


def trader(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    env = os.environ | {"TRADEOPS_DATA_DIR": str(data_dir)}
    tradeops = shutil.which("tradeops", path=str(Path(sys.executable).parent)) or "tradeops"
    return subprocess.Popen(
        [tradeops, "trader", *ARGS, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def last_bar(database: Path, session: str) -> int:
    try:
        with sqlite3.connect(database, timeout=5) as db:
            row = db.execute("SELECT last_bar FROM trader_sessions WHERE id = ?", (session,)).fetchone()
    except sqlite3.OperationalError:
        return -1  # not created yet
    return int(row[0]) if row else -1


@pytest.mark.req("DC-12")
def test_dc_12_kill_9_mid_run_then_restart_ends_in_the_uninterrupted_state(tmp_path):
    crashed_dir, clean_dir = tmp_path / "crashed", tmp_path / "clean"
    victim = trader(crashed_dir, "--session", "s", "--speed", "150")
    database = crashed_dir / "tradeops.db"
    deadline = time.monotonic() + 120
    while last_bar(database, "s") < 120:
        assert victim.poll() is None and time.monotonic() < deadline, "the trader ended before it could be killed"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    stopped_at = last_bar(database, "s")
    assert 120 <= stopped_at < 499

    resumed = trader(crashed_dir, "--session", "s")
    clean = trader(clean_dir, "--session", "s")
    outputs = [json.loads(process.communicate(timeout=300)[0]) for process in (resumed, clean)]
    assert resumed.returncode == clean.returncode == 0
    assert outputs[0] == outputs[1]  # same trades, equity and metrics

    states = [ledger(open_engine(f"sqlite:///{folder / 'tradeops.db'}"), "s") for folder in (crashed_dir, clean_dir)]
    assert states[0] == states[1]  # every order, fill, trade and equity point: nothing lost, nothing twice
    assert len({order[0] for order in states[0]["orders"]}) == len(states[0]["orders"])
    assert [bar for bar, *_ in states[0]["equity"]] == list(range(500))
