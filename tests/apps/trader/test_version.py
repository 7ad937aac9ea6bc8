"""Every replica, one version: the trader trades only the release its stack records as running, and
`tradeops monitor` reports a workload that runs another version."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH
from tests.apps.trader.conftest import session_config
from tests.fakes.servers import uvicorn_server
from tradeops.audit import AuditLog
from tradeops.data import load_bars
from tradeops.releases import Release, ReleaseStore
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings
from tradeops.store import open_object_store
from tradeops.store.database import open_engine
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.service import version_guard
from tradeops.trader.version import GuardedFeed, VersionGuard

SMA = {"fast": 5, "slow": 20}


def release(version: str, at_second: int, result: str = "succeeded") -> Release:
    at = datetime(2026, 3, 1, 12, 0, at_second, tzinfo=UTC)
    return Release(
        id=f"deploy-{version}-{at_second}", stack="dev", kind="deploy", version=version, git_sha=version,
        config={}, result=result, started_at=at, finished_at=at, who="ci",
    )  # fmt: skip


@pytest.fixture
def releases(tmp_path):
    return ReleaseStore(open_object_store((tmp_path / "objects").as_uri()))


def current(releases: ReleaseStore):
    def running() -> str | None:
        found = releases.current("dev")
        return None if found is None else found.version

    return running


@pytest.mark.req("DC-25")
def test_dc_25_the_guard_refuses_any_version_but_the_running_release_and_says_why(releases):
    changes: list[str | None] = []
    now = [0.0]
    guard = VersionGuard("v2", current(releases), stack="dev", on_change=changes.append, clock=lambda: now[0])
    assert "records no running release yet" in guard.check()
    releases.save(release("v1", 1))
    now[0] += 61
    assert guard.check() == "this process runs v2 but stack 'dev' records v1 as running"
    releases.save(release("v2", 2, result="failed"))  # a failed deploy of v2 does not make it the release
    now[0] += 61
    assert "records v1 as running" in guard.check()
    releases.save(release("v2", 3))
    assert guard.check() is not None  # within the recheck interval: the answer before
    now[0] += 61
    assert guard.check() is None and guard.state()["running"] == "v2"
    assert len(changes) == 3 and changes[-1] is None  # every change between refusing and trading, once

    def broken() -> str | None:
        raise OSError("connection refused")

    unreadable = VersionGuard("v2", broken, stack="dev")
    assert unreadable.check() == "cannot read the release store of stack 'dev': OSError"  # fails closed


@pytest.mark.req("DC-25")
def test_dc_25_a_trader_of_another_version_processes_no_bar_until_its_release_is_recorded(tmp_path, releases):
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    releases.save(release("v1", 1))
    bars = load_bars("sample:GOOG").head(120)
    guard = VersionGuard("v2", current(releases), stack="dev", recheck_seconds=0)
    stop = threading.Event()
    trader = Trader(engine, session_config("versioned", "sma_cross", SMA, "goog"))
    thread = threading.Thread(
        target=trader.run, args=(GuardedFeed(ReplayFeed(bars), guard, stop=stop, poll_seconds=0.02),)
    )
    thread.start()
    time.sleep(0.5)
    assert trader.last_bar == -1 and "records v1 as running" in guard.refusal  # refused: not one bar
    releases.save(release("v2", 2))  # the deploy of v2 succeeded
    thread.join(60)
    assert not thread.is_alive() and trader.last_bar == bars.n_bars - 1
    engine.dispose()


@pytest.mark.req("DC-25")
def test_dc_25_in_a_stack_the_service_guard_audits_each_change(tmp_path, releases):
    settings = load_settings(
        data_dir=tmp_path,
        environment="dev",
        git_sha="v2",
        object_store=(tmp_path / "objects").as_uri(),
        api_token=AUTH["Authorization"][7:],
    )
    engine = open_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    audit = AuditLog(engine)
    assert version_guard(load_settings(data_dir=tmp_path), audit, "s") is None  # a laptop has no release store
    guard = version_guard(settings, audit, "s")
    assert guard is not None and guard.check() is not None
    (entry,) = [e for e in audit.entries() if e.action == "trader.version"]
    assert entry.outcome == "refused" and entry.actor == "system" and entry.detail["own"] == "v2"
    assert "records no running release" in entry.detail["reason"]
    engine.dispose()


@pytest.mark.req("DC-25")
def test_dc_25_monitor_reports_a_workload_running_another_version_than_the_release(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    app = create_app(load_settings(data_dir=data, api_token=AUTH["Authorization"][7:], git_sha="v1"))
    ReleaseStore(open_object_store((data / "objects").as_uri())).save(release("v2", 1))
    with uvicorn_server(app) as url:
        code, out, _ = cli(monkeypatch, capsys, "monitor", "--once", "--json", "--target", f"backtester={url}")
        local = {c["name"]: c for c in json.loads(out)["checks"]}
        assert local["backtester"]["healthy"]  # on a laptop there is no stack release to compare with
        monkeypatch.setenv("TRADEOPS_ENVIRONMENT", "dev")
        monkeypatch.setenv("TRADEOPS_API_TOKEN", AUTH["Authorization"][7:])
        code, out, _ = cli(monkeypatch, capsys, "monitor", "--once", "--json", "--target", f"backtester={url}")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1 and not checks["backtester"]["healthy"]
    assert checks["backtester"]["detail"] == "runs version v1 but the stack's running release is v2"


@pytest.mark.req("DC-25")
def test_dc_25_a_change_whose_audit_failed_is_checked_again_not_cached(releases):
    releases.save(release("v1", 1))
    failing = [True]

    def audit(_refusal: str | None) -> None:
        if failing[0]:
            raise OSError("audit store unavailable")

    guard = VersionGuard("v2", current(releases), stack="dev", on_change=audit, clock=lambda: 0.0)
    with pytest.raises(OSError):
        guard.check()
    failing[0] = False
    assert "records v1 as running" in (guard.check() or "")  # same instant: checked again, still refused


class CatchUp:
    """A feed whose one update brings many new bars (a polling feed after downtime)."""

    name = "catch-up"

    def __init__(self, bars):
        self.bars = bars

    def updates(self, after):
        yield self.bars


@pytest.mark.req("DC-25")
def test_dc_25_a_catch_up_of_many_bars_is_guarded_bar_by_bar(releases):
    bars = load_bars("sample:GOOG").head(30)
    releases.save(release("v2", 1))
    clock = [0.0]
    guard = VersionGuard("v2", current(releases), stack="dev", clock=lambda: clock[0], recheck_seconds=0)
    feed = GuardedFeed(CatchUp(bars), guard, stop=threading.Event(), poll_seconds=0.01)
    seen = []
    for update in feed.updates(-1):
        seen.append(update.n_bars)
        if update.n_bars == 10:
            releases.save(release("v3", 2))  # the stack moves on mid catch-up: the next bar waits
            break
    assert seen == list(range(1, 11))
    assert guard.check() is not None
