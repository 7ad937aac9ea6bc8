"""DC-64: the API runner's database work per job, in round trips: claiming runs for every idle worker is one
statement, recording how a job ended is one, on SQLite and PostgreSQL (the parent did four or five per job)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.apps.store.conftest import create
from tradeops.notify.console import ConsoleNotifier
from tradeops.service.runner import JobRunner
from tradeops.store.objects import FolderObjectStore
from tradeops.store.runs import ended_since

pytestmark = pytest.mark.req("DC-64")


@contextmanager
def statements(store) -> Iterator[list[str]]:
    """The SQL statements sent to the store's database meanwhile."""
    sent: list[str] = []

    def note(_connection, _cursor, statement, *_rest) -> None:
        sent.append(statement.split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def test_dc_64_claiming_for_every_idle_worker_is_one_statement_and_takes_no_more_than_asked(store):
    runs = [create(store) for _ in range(3)]
    with statements(store) as sent:
        claimed = store.claim_many("a", 2, lease_seconds=60)
    assert sent == ["UPDATE"] or sent == ["WITH"]  # PostgreSQL's names its rows first (WITH ... UPDATE)
    assert [r.id for r in claimed] == [runs[0].id, runs[1].id]  # the oldest first
    assert all(r.status == "running" and r.owner == "a" and r.started_at is not None for r in claimed)
    assert store.queued_count() == 1 and store.get(runs[2].id).status == "queued"  # two asked, two taken
    assert [r.id for r in store.claim_many("b", 5, lease_seconds=60)] == [runs[2].id]
    assert store.claim_many("c", 5, lease_seconds=60) == [] and store.claim("c", lease_seconds=60) is None


def test_dc_64_recording_an_end_whose_start_the_holder_knows_is_one_statement(store):
    create(store)
    create(store)
    done, failed = store.claim_many("a", 2, lease_seconds=60)
    with statements(store) as sent:
        assert store.finish(
            done.id, result={"x": [1.5, None]}, metrics={"sharpe": 1.0}, verdict=None, data_fingerprint="f",
            engine_version="e", report_key=None, held_by="a", ended=ended_since(done.started_at),
        )  # fmt: skip
        assert store.fail(failed.id, "boom", held_by="a", ended=ended_since(failed.started_at))
        assert not store.fail(failed.id, "again", held_by="a", ended=ended_since(failed.started_at))  # ended already
    assert sent == ["UPDATE"] * 3
    recorded = store.get(done.id)
    assert recorded.status == "done" and recorded.result == {"x": [1.5, None]} and recorded.metrics == {"sharpe": 1.0}
    assert recorded.duration_seconds == pytest.approx((recorded.finished_at - recorded.started_at).total_seconds())
    assert store.get(failed.id).status == "failed" and store.get(failed.id).error == "boom"


def test_dc_64_the_runner_records_a_job_in_one_statement_and_announces_it_without_reading_it_back(store, tmp_path):
    create(store)
    announced = tmp_path / "announced.jsonl"
    objects, notifier = FolderObjectStore(tmp_path / "objects"), ConsoleNotifier(announced)
    runner = JobRunner(store, objects, notifier, workers=1, queue_limit=5, timeout_seconds=60)
    (run,) = store.claim_many(runner.holder, 1, lease_seconds=60)
    payload = {"result": {"equity": [[0, 1.0]]}, "metrics": {"sharpe": 0.5}, "verdict": None, "fingerprint": "f"}
    with statements(store) as sent:
        runner._record(run, ("ok", payload | {"report_key": "runs/x/report.html"}))
    assert sent == ["UPDATE"]
    recorded = store.get(run.id)
    assert recorded.status == "done" and recorded.metrics == {"sharpe": 0.5}
    assert recorded.report_key == "runs/x/report.html" and recorded.duration_seconds is not None
    (message,) = announced.read_text().splitlines()
    assert run.id in message and '"kind": "backtest_finished"' in message and '"ok": true' in message
    assert runner.jobs.labels("backtest", "done")._value.get() == 1
