"""The results store, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.apps.store.conftest import create
from tradeops.store.migrate import upgrade

pytestmark = pytest.mark.req("BT-3")


def test_bt_3_a_run_keeps_request_data_engine_metrics_verdict_and_timings(store):
    run = create(store)
    assert run.status == "queued" and store.get(run.id).request["params"] == {"fast": 10, "slow": 20}
    assert store.mark_running(run.id) and not store.mark_running(run.id)
    assert store.finish(
        run.id,
        result={"final_equity": 75645.99},
        metrics={"sharpe": 1.17, "trades": 46.0},
        verdict={"passed": True, "exit_code": 0, "checks": []},
        data_fingerprint="sha256:abc",
        engine_version="tradeops 0.1.0",
        report_key="runs/x/report.html",
    )
    done = store.get(run.id)
    assert done.status == "done" and done.metrics["sharpe"] == 1.17 and done.verdict["passed"]
    assert done.data_fingerprint == "sha256:abc" and done.engine_version == "tradeops 0.1.0"
    assert done.started_at <= done.finished_at and done.duration_seconds >= 0
    assert done.created_at.tzinfo is not None
    assert not store.fail(run.id, "too late") and store.get(run.id).status == "done"


def test_bt_3_failures_and_cancellations_are_final(store):
    failed, cancelled = create(store), create(store)
    store.mark_running(failed.id)
    assert store.fail(failed.id, "bad data: row 3")
    assert store.cancel(cancelled.id) and not store.cancel(cancelled.id)
    assert store.get(failed.id).error == "bad data: row 3"
    assert store.get(cancelled.id).status == "cancelled"
    assert store.get("nope") is None
    assert store.counts() == {"failed": 1, "cancelled": 1}


def test_bt_3_listing_filters_pages_and_orders_newest_first(store):
    ids = [create(store).id for _ in range(5)]
    create(store, strategy="rsi_reversion")
    create(store, kind="sweep")
    page, total = store.list_runs(kind="backtest", strategy="sma_cross", limit=2)
    assert total == 5 and [r.id for r in page] == ids[::-1][:2]
    page, _ = store.list_runs(kind="backtest", strategy="sma_cross", limit=2, offset=4)
    assert [r.id for r in page] == [ids[0]]
    assert store.list_runs(kind="backtest", status="done")[1] == 0
    assert store.list_runs(since=datetime.now(UTC) + timedelta(hours=1))[1] == 0
    assert store.list_runs(since=datetime.now(UTC) - timedelta(hours=1))[1] == 7


def test_bt_3_latest_skips_a_configuration(store):
    done = create(store, kind="gate", source="watch", config_hash="h1")
    store.mark_running(done.id)
    store.finish(
        done.id, result={}, metrics=None, verdict=None, data_fingerprint=None, engine_version="x", report_key=None
    )
    assert store.latest(kind="gate", source="watch").id == done.id
    assert store.latest(kind="gate", source="watch", exclude_config="h1") is None


def test_bt_3_migrations_are_idempotent_and_ping_works(store):
    upgrade(store.engine)
    store.ping()
