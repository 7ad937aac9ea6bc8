"""Retention keeps what the policy promises, over random backup histories (property-based)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeops.backup.retention import BackupInfo, RetentionPolicy, plan_prune

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
histories = st.lists(
    st.builds(
        lambda minutes, kind, verified, n: BackupInfo(
            f"b{n:05d}-{minutes}", NOW - timedelta(minutes=minutes), kind, verified
        ),
        st.integers(0, 60 * 24 * 120),
        st.sampled_from(["scheduled", "restore-point"]),
        st.booleans(),
        st.integers(0, 99_999),
    ),
    max_size=60,
    unique_by=lambda b: b.id,
)
policies = st.builds(
    RetentionPolicy,
    keep_last=st.integers(1, 10),
    daily_days=st.integers(0, 20),
    weekly_weeks=st.integers(0, 10),
    restore_point_days=st.integers(0, 40),
)


@pytest.mark.req("OE-1")
@settings(max_examples=300, deadline=None)
@given(history=histories, policy=policies)
def test_oe_1_prune_keeps_everything_the_policy_promises(history, policy):
    keep, delete = plan_prune(history, NOW, policy)
    assert set(keep).isdisjoint(delete) and set(keep) | set(delete) == {b.id for b in history}
    newest_first = sorted(history, key=lambda b: (b.created_at, b.id), reverse=True)
    assert {b.id for b in newest_first[: policy.keep_last]} <= set(keep)
    verified = [b for b in newest_first if b.verified]
    if verified:
        assert verified[0].id in keep
    for backup in history:
        age = NOW - backup.created_at
        if backup.kind == "restore-point" and age <= timedelta(days=policy.restore_point_days):
            assert backup.id in keep
        same_day = [b for b in newest_first if b.created_at.date() == backup.created_at.date()]
        if age <= timedelta(days=policy.daily_days) and same_day[0] is backup:
            assert backup.id in keep
        same_week = [b for b in newest_first if b.created_at.isocalendar()[:2] == backup.created_at.isocalendar()[:2]]
        if age <= timedelta(weeks=policy.weekly_weeks) and same_week[0] is backup:
            assert backup.id in keep


@pytest.mark.req("OE-1")
def test_oe_1_prune_deletes_manifests_first_and_dry_run_deletes_nothing(tmp_path):
    from tests.apps.backup.conftest import fill
    from tradeops.backup import BackupRepository, RetentionPolicy
    from tradeops.store import open_object_store

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    fill(url, runs=5)
    repository = BackupRepository(url, open_object_store((tmp_path / "o").as_uri()))
    made = [repository.create() for _ in range(4)]
    repository.verify(made[0].id)
    policy = RetentionPolicy(keep_last=1, daily_days=0, weekly_weeks=0, restore_point_days=0)
    keep, _ = repository.prune(policy, dry_run=True)
    assert keep == {made[3].id: "one of the newest 1", made[0].id: "the newest verified backup"}
    assert len(repository.list_backups()) == 4
    repository.prune(policy)
    assert [v.id for v in repository.list_backups()] == [made[3].id, made[0].id]
    assert not [k for k in repository.objects.keys("backups/") if made[1].id in k or made[2].id in k]
