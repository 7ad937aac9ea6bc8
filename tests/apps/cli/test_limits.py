"""Backtest caps come from the configured memory and are the same for the CLI and the API."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.apps.service.conftest import AUTH, backtester, wait_for
from tradeops.engine.limits import MAX_GRID_POINTS, Limits

pytestmark = pytest.mark.req("DC-17")


def tradeops(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from tradeops.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_dc_17_caps_fit_the_pod_the_measured_10m_bar_backtest_does_not():
    pod = Limits.from_memory(4096, workers=2)  # the backtester's 4 Gi limit, shared by the API and 2 workers
    assert pod.max_bars < 10_000_000 and pod.max_grid_points == MAX_GRID_POINTS == 100_000
    assert Limits.from_memory(16384, workers=1).max_bars > 40_000_000  # more memory, larger cap
    assert Limits.from_memory(256, workers=8).max_grid_points < MAX_GRID_POINTS


def test_dc_17_a_huge_grid_prints_its_size_first_and_is_refused_at_once(tmp_path):
    done = tradeops(
        "backtest", "sweep", "--strategy", "sma_cross", "--data", "sample:GOOG",
        "--grid", "fast=1:1000000:1", "--grid", "slow=1:1000000:1",
        env={"TRADEOPS_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    first, *_ = done.stderr.strip().splitlines()
    assert first == "grid: 1,000,000,000,000 points"
    assert "at most 100,000" in done.stderr and "Traceback" not in done.stderr


def test_dc_17_data_larger_than_the_memory_cap_is_refused_by_the_cli_and_the_api(tmp_path):
    data = "sample:synthetic?bars=2000000"
    small = {"TRADEOPS_DATA_DIR": str(tmp_path), "TRADEOPS_MEMORY_LIMIT_MIB": "512"}
    done = tradeops("backtest", "run", "--strategy", "sma_cross", "--data", data, "--json", env=small)
    assert done.returncode == 2 and "TRADEOPS_MEMORY_LIMIT_MIB" in done.stderr, done.stderr
    with backtester(tmp_path / "data", memory_limit_mib=512) as api:
        accepted = api.post("/v1/backtests", json={"strategy": "sma_cross", "data": data}, headers=AUTH).json()
        run = wait_for(api, accepted["url"])
    assert run["status"] == "failed" and "TRADEOPS_MEMORY_LIMIT_MIB" in str(run), run
