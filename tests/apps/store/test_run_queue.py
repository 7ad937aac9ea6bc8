"""DC-36: the store's side of the run queue -- claims, leases, renewals, hand-backs -- on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from tests.apps.store.conftest import create

pytestmark = pytest.mark.req("DC-36")


def test_dc_36_a_claim_is_one_holder_at_a_time_renewed_and_returned_when_its_lease_runs_out(store):
    first, second, watched = create(store), create(store, source="ui"), create(store, source="watch")
    sharded = create(store, running=True)  # runs in the cluster: never the runner's
    claimed = store.claim("a", lease_seconds=60)
    assert claimed.id == first.id and claimed.status == "running" and claimed.owner == "a"
    assert store.claim("b", lease_seconds=0.01).id == second.id  # the ui's runs are queued for the runner too
    assert store.claim("c", lease_seconds=60) is None  # the watcher's run and the cluster's are not queued for it
    assert store.queued_count() == 0 and store.get(watched.id).status == "queued"
    assert store.renew("a", [first.id, second.id], lease_seconds=60) == {first.id}  # b's run is not a's
    assert not store.finish(
        first.id, result={}, metrics=None, verdict=None, data_fingerprint=None, engine_version="x", report_key=None,
        held_by="b",
    )  # fmt: skip
    time.sleep(0.05)  # b's lease (0.01 s) is over by now, however fast the lines above ran
    assert store.requeue_expired() == [second.id]  # b stopped renewing: its run goes back, a's stays
    assert store.get(second.id).status == "queued" and store.get(second.id).owner is None
    assert store.get(sharded.id).status == "running"
    assert store.claim("a", lease_seconds=60).id == second.id
    store.release("a", [second.id])
    assert store.get(second.id).status == "queued"
    assert store.fail(first.id, "boom", held_by="a") and store.get(first.id).status == "failed"
