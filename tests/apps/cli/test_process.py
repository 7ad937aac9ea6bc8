"""A command's process ends with its exit code and all its output, without the interpreter's teardown."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from tradeops.cli.process import exit_code, run

GATE = ["gate", "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30", "--data", "sample:GOOG"]


def tradeops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradeops.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.req("DC-18")
def test_dc_18_a_fast_exit_keeps_every_exit_code_and_all_the_output():
    passed = tradeops(*GATE, "--json")
    assert passed.returncode == 0 and json.loads(passed.stdout)["passed"] is True
    failed = tradeops(*GATE, "--threshold", "min_sharpe=50", "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["passed"] is False
    undecided = tradeops(*GATE, "--threshold", "no_such_check=1", "--json")
    assert undecided.returncode == 2 and json.loads(undecided.stdout)["error"]
    refused = tradeops("backtest", "run", "-s", "nope", "-d", "sample:GOOG")
    assert refused.returncode == 2 and refused.stderr.startswith("error:") and "Traceback" not in refused.stderr


@pytest.mark.req("DC-18")
def test_dc_18_with_another_thread_alive_the_process_exits_the_ordinary_way():
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=True)
    worker.start()
    try:
        with pytest.raises(SystemExit) as done:
            run(lambda: None)
        assert done.value.code == 0
        with pytest.raises(SystemExit) as done:
            run(lambda: sys.exit(3))
        assert done.value.code == 3
    finally:
        release.set()
        worker.join()


@pytest.mark.req("DC-18")
def test_dc_18_exit_codes_follow_system_exit(capsys):
    assert (exit_code(None), exit_code(0), exit_code(2)) == (0, 0, 2)
    assert exit_code("stopped: disk full") == 1 and "stopped: disk full" in capsys.readouterr().err
