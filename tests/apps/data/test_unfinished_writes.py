"""Nothing left behind (DC-45): an import killed while writing its parts leaves nothing after `tradeops cleanup`,
and the parts of a first write that never completed go once the grace period passed, not before."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.apps.backup.test_leftovers import bytes_under, finish, killed_when, tradeops
from tradeops.cleanup import CleanupPolicy, run_cleanup
from tradeops.store import RunStore, open_object_store

pytestmark = pytest.mark.req("DC-45")
NAME = "hourly"


@pytest.fixture
def hourly_csv(tmp_path: Path) -> Path:
    """Six symbols of hourly bars over six years: 36 parts, enough to be caught half written."""
    times = pd.date_range("2019-01-01", "2024-12-31", freq="1h")
    rng = np.random.default_rng(7)
    frames = []
    for symbol in ("A", "B", "C", "D", "E", "F"):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, len(times))))
        frames.append(pd.DataFrame({"timestamp": times, "symbol": symbol, "open": close, "high": close * 1.001,
                                    "low": close * 0.999, "close": close, "volume": 1.0}))  # fmt: skip
    path = tmp_path / "hourly.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def half_written(tmp_path: Path, hourly_csv: Path, stop: bool) -> tuple[dict[str, str], Path, subprocess.Popen[str]]:
    """Run `data import` until its first part is stored, then SIGKILL it (or SIGSTOP it: alive, stuck)."""
    objects = tmp_path / "objects"
    env = {"TRADEOPS_DATA_DIR": str(tmp_path / "data"), "TRADEOPS_OBJECT_STORE": objects.as_uri(),
           "TMPDIR": str(tmp_path)}  # fmt: skip
    process = tradeops("data", "import", str(hourly_csv), "--dataset", NAME, env=env)
    parts = objects / "datasets" / NAME / "parts"

    def writing() -> bool:
        return parts.is_dir() and any(p.suffix == ".parquet" for p in parts.iterdir())

    if stop:
        while process.poll() is None and not writing():
            time.sleep(0.005)
        process.send_signal(signal.SIGSTOP)
    else:
        assert killed_when(process, writing)
    assert not list(objects.rglob("manifest.json"))  # no version completed: the first write died half way
    return env, objects / "datasets" / NAME, process


def test_dc_45_a_killed_first_import_leaves_nothing_after_cleanup(tmp_path, hourly_csv):
    env, folder, _ = half_written(tmp_path, hourly_csv, stop=False)
    assert bytes_under(folder) > 0
    code, err = finish(tradeops("cleanup", env=env))
    assert code == 0, err
    assert bytes_under(folder) == 0  # its process is gone: no need to wait for the grace period


def test_dc_45_an_unfinished_first_import_stays_within_the_grace_period_and_goes_after(tmp_path, hourly_csv):
    _, folder, process = half_written(tmp_path, hourly_csv, stop=True)  # alive: its write may still finish
    try:
        store = RunStore(f"sqlite:///{tmp_path / 'cleanup.db'}")
        objects = open_object_store((tmp_path / "objects").as_uri())
        policy = CleanupPolicy()  # the default grace period: 6 h
        held = bytes_under(folder)
        now = datetime.now(UTC)
        early = run_cleanup(store, objects, policy, now=now + timedelta(hours=1))
        assert bytes_under(folder) == held > 0
        assert {"what": f"dataset {NAME} parts", "why": "a write is in progress"} in early.kept
        late = run_cleanup(store, objects, policy, now=now + timedelta(hours=6, minutes=5))
        assert bytes_under(folder, keep=lambda p: p.name.startswith(".partial-")) == 0
        assert late.bytes_freed > 0
        assert any(r["what"].startswith(f"unfinished write datasets/{NAME}/") for r in late.removed)
        store.close()
    finally:
        process.kill()
        process.wait()
