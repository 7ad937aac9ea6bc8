"""Automated backtests on parameter change: a changed candidate file is gated, stored, compared, notified."""

from __future__ import annotations

import json
import threading

import pytest

from tradeops.notify.console import ConsoleNotifier
from tradeops.store import RunStore, open_object_store
from tradeops.watch import ConfigWatcher

pytestmark = pytest.mark.req("BT-2")
GOOD = "strategy: sma_cross\nparams: {fast: 10, slow: 30}\ndata: sample:GOOG\n"
WORSE = "strategy: sma_cross\nparams: {fast: 20, slow: 50}\ndata: sample:GOOG\n"


@pytest.fixture
def parts(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    objects = open_object_store((tmp_path / "objects").as_uri())
    log = tmp_path / "notifications.log"
    yield tmp_path / "candidate.yaml", store, objects, ConsoleNotifier(log), log
    store.close()


def notifications(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_bt_2_a_new_file_is_gated_stored_and_notified_once(parts):
    path, store, objects, notifier, log = parts
    path.write_text(GOOD)
    watcher = ConfigWatcher(path, store, objects, notifier)
    outcome = watcher.poll_once()
    run = outcome.run
    assert run.status == "done" and run.source == "watch" and run.verdict["passed"]
    assert run.config_hash.startswith("sha256:") and run.metrics["trades"] == 32
    assert objects.get(run.report_key).startswith(b"<!doctype html>")
    assert [n["kind"] for n in notifications(log)] == ["gate_verdict"]
    assert watcher.poll_once() is None  # unchanged content is not gated again
    assert ConfigWatcher(path, store, objects, notifier).poll_once() is None  # nor after a restart


def test_bt_2_a_worse_configuration_is_flagged_as_a_regression(parts):
    path, store, objects, notifier, log = parts
    path.write_text(GOOD)
    watcher = ConfigWatcher(path, store, objects, notifier)
    watcher.poll_once()
    path.write_text(WORSE)
    outcome = watcher.poll_once()
    assert not outcome.run.verdict["passed"]
    assert outcome.regressions[0] == "gate verdict went from PASSED to FAILED"
    assert any(r.startswith("Sharpe fell from") for r in outcome.regressions)
    kinds = [n["kind"] for n in notifications(log)]
    assert kinds == ["gate_verdict", "gate_verdict", "regression"]
    path.write_text(GOOD)
    assert watcher.poll_once().regressions == []  # better again: no regression


def test_bt_2_a_broken_file_is_a_failed_run_not_a_dead_watcher(parts):
    path, store, objects, notifier, log = parts
    path.write_text("strategy: sma_cross\nparams: {fast: 50, slow: 20}\n")
    watcher = ConfigWatcher(path, store, objects, notifier)
    failed = watcher.poll_once().run
    assert failed.status == "failed" and "must be less than slow" in failed.error
    path.write_text("strategy: [")
    assert "not valid YAML" in watcher.poll_once().run.error
    path.unlink()
    assert watcher.poll_once() is None
    assert [n["ok"] for n in notifications(log)] == [False, False]


def test_bt_2_the_loop_picks_up_changes_until_stopped(parts):
    path, store, objects, notifier, _ = parts
    path.write_text(GOOD)
    watcher = ConfigWatcher(path, store, objects, notifier)
    stop = threading.Event()
    loop = threading.Thread(target=watcher.run, args=(stop, 0.05))
    loop.start()
    try:
        for _ in range(400):
            if store.counts().get("done"):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        loop.join(10)
    assert store.counts() == {"done": 1}


def test_bt_2_the_watch_command_runs_without_any_api(parts, monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    path = parts[0]
    path.write_text(GOOD)
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "cli-data"))
    code, _, err = cli(monkeypatch, capsys, "backtest", "watch", str(path), "--once")
    assert code == 0 and ": done" in err
    code, _, err = cli(monkeypatch, capsys, "backtest", "watch", str(path), "--once")
    assert code == 0 and "unchanged" in err
    log = tmp_path / "cli-data" / "notifications.log"
    assert [n["kind"] for n in notifications(log)] == ["gate_verdict"]
    code, _, err = cli(monkeypatch, capsys, "backtest", "watch", str(tmp_path / "missing.yaml"), "--once")
    assert code == 2 and "no such file" in err


def test_bt_2_any_failure_is_a_failed_run_once_never_a_stuck_one(parts, monkeypatch):
    path, store, objects, notifier, _ = parts
    path.write_text(GOOD)

    def unreachable(*_args, **_kwargs):
        raise OSError("object store unreachable")

    monkeypatch.setattr(objects, "put", unreachable)
    failed = ConfigWatcher(path, store, objects, notifier).poll_once().run
    assert failed.status == "failed" and failed.error == "internal error: OSError: object store unreachable"
    assert store.counts() == {"failed": 1}
    assert ConfigWatcher(path, store, objects, notifier).poll_once() is None  # judged once, even after a restart
