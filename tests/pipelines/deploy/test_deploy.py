"""`tradeops deploy`: hooks in order, `up` with the version, verification, release record, Slack; every failure path."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pipelines.deploy.deployer import deploy, rollback
from pipelines.infra.evaluate import evaluate, stack_config
from pipelines.lock import ROOT, lock_sha256

from tests.fakes.kubernetes_api import job
from tests.pipelines.deploy.conftest import failed_gate_job, plan
from tradeops.backup import BackupRepository
from tradeops.cleanup.jobs import KubernetesJobs

HOOKS = ["validate", "gate", "restore-point", "cleanup", "up", "verify"]


@pytest.mark.req("DW-4", "DC-3", "DC-6")
def test_dw_4_dc_3_dc_6_a_deploy_runs_the_hooks_in_order_then_records_the_release_and_tells_slack(desk):
    desk.kube.add(failed_gate_job("gate-job-old"))
    desk.kube.add(job("gate-job-good", "tradeops-staging", finished="2026-01-01T00:00:00Z",
                      labels={"app.kubernetes.io/component": "gate"}))  # fmt: skip
    desk.kube.add(job("backup-job", "tradeops-staging", finished="2026-01-01T00:00:00Z", outcome="Failed",
                      labels={"app.kubernetes.io/component": "backup"}))  # fmt: skip

    release = deploy(plan("v1"), desk.tools)

    assert release.result == "succeeded" and release.failed_step is None
    assert [s.name for s in release.steps] == HOOKS and {s.status for s in release.steps} == {"ok"}
    # the restore point exists, is labelled with the version, and was taken before `up`
    (backup,) = desk.backups.list_backups()
    assert backup.kind == "restore-point" and backup.label == "before staging v1" and release.restore_point == backup.id
    assert [name for _, name, _ in desk.kube.deleted] == ["gate-job-old"]  # only the failed gate Job
    ((call, target),) = desk.engine.calls
    assert call == "up" and target.version == "v1" and target.settings == stack_config("staging")["tradeops:settings"]
    assert (
        "v1" in target.message and target.git_sha[:12] in target.message and release.gate_verdict_id in target.message
    )
    assert {h.git_sha for h in desk.cluster.health.values()} == {"v1"}

    (stored,) = desk.releases.history("staging")
    assert stored == release
    assert stored.config["namespace"] == "tradeops-staging" and stored.image.startswith("ghcr.io/")
    declared = len(evaluate("staging").resources)  # a first deploy creates everything the program declares
    assert "@sha256:" in stored.image and stored.changes == {"create": declared} and stored.who == "ci@github"
    assert 0 < stored.duration_seconds < 60
    verdict = desk.releases.verdict("staging", stored.gate_verdict_id)
    assert verdict.passed and verdict.version == "v1" and verdict.verdict["checks"]

    (message,) = desk.flush()
    assert message["text"].startswith("staging: release v1 succeeded")
    assert f"{declared} create" in message["text"] and f"passed ({stored.gate_verdict_id})" in message["text"]
    assert "duration: " in message["text"] and backup.id in message["text"]


@pytest.mark.req("DC-56")
def test_dc_56_a_deploy_records_the_checkouts_image_lock_hash_in_its_bundle(desk):
    digest = lock_sha256(ROOT)
    release = deploy(replace(plan("v1"), lock_sha256=digest), desk.tools)
    assert release.result == "succeeded"
    assert desk.tools.bundles.get(release.bundle_id).content.lock_sha256 == digest


@pytest.mark.req("DW-4", "DC-3")
def test_dw_4_dc_3_a_second_deploy_reports_only_what_changed(desk):
    deploy(plan("v1"), desk.tools)
    settings = stack_config("staging")["tradeops:settings"]
    release = deploy(plan("v2", services={**settings["services"], "backtester": {"replicas": 3}}), desk.tools)
    assert release.result == "succeeded"
    assert release.changes["update"] > 0 and release.changes["same"] > 0 and "create" not in release.changes
    assert [r.version for r in desk.releases.history("staging")] == ["v2", "v1"]
    assert desk.releases.current("staging").version == "v2"


def _break(desk, step: str):
    """Make `step` fail; return the plan to deploy."""
    if step == "validate":
        return plan("v1", services={"backtester": {"replicas": 99}})
    if step == "gate":
        candidate = stack_config("staging")["tradeops:settings"]["candidate"]
        thresholds = candidate.get("thresholds", {}) | {"profitability": {"min_sharpe": 50}}
        return plan("v1", candidate=candidate | {"thresholds": thresholds})
    if step == "restore-point":
        desk.tools.restore_points = BackupRepository("postgresql://nobody@127.0.0.1:1/gone", desk.backups.objects)
    if step == "cleanup":
        desk.tools.jobs = KubernetesJobs("tradeops-staging", host="http://127.0.0.1:1")
    if step == "up":
        desk.engine.fail_up.append("kubernetes:batch/v1:Job gate-job: Job failed: BackoffLimitExceeded")
    if step == "verify":
        desk.cluster.stuck.add("trader")
    return plan("v1")


REASONS = {
    "validate": "services.backtester.replicas",
    "gate": "thresholds not met (exit 1): min_sharpe",
    "restore-point": "Connection refused",
    "cleanup": "Error",
    "up": "BackoffLimitExceeded",
    "verify": "trader: ready on version none",
}


@pytest.mark.req("DW-4", "DC-3", "DC-6")
@pytest.mark.parametrize("step", HOOKS)
def test_dw_4_dc_3_dc_6_a_failure_at_each_step_stops_the_deploy_there_and_is_recorded(desk, step):
    desk.kube.add(failed_gate_job("gate-job-old"))

    release = deploy(_break(desk, step), desk.tools)

    assert release.result == "failed" and release.failed_step == step
    assert REASONS[step] in release.error
    assert [s.name for s in release.steps] == HOOKS[: HOOKS.index(step) + 1]
    assert release.steps[-1].status == "failed"
    ran = HOOKS[: HOOKS.index(step)]
    assert bool(desk.backups.list_backups()) == ("restore-point" in ran)
    assert bool(desk.kube.deleted) == ("cleanup" in ran)
    assert len(desk.engine.calls) == (1 if "up" in [*ran, step] else 0)
    if "up" not in ran:  # nothing was applied: the running services are untouched
        assert {h.git_sha for h in desk.cluster.health.values()} == {"none"}
    assert release.gate_passed is (None if step == "validate" else step != "gate")
    assert desk.releases.history("staging") == [release]
    (message,) = desk.flush()
    assert message["text"].startswith(f"staging: release v1 FAILED at {step}")
    if step == "verify":
        assert "no earlier good release to roll back to" in message["text"]


@pytest.mark.req("DW-1", "DC-3", "DC-6")
def test_dw_1_dc_3_dc_6_a_failed_verification_rolls_back_automatically_and_slack_says_so(desk):
    first = deploy(plan("v1"), desk.tools)
    desk.flush()
    desk.cluster.stuck.add("trader")  # v2's trader never becomes ready on v2

    failed = deploy(plan("v2"), desk.tools)

    assert failed.result == "rolled back" and failed.failed_step == "verify" and failed.rolled_back_to == "v1"
    back, stored_failed, stored_first = desk.releases.history("staging")
    assert stored_failed == failed and stored_first == first
    assert back.kind == "rollback" and back.version == "v1" and back.result == "succeeded"
    assert back.gate_reused and back.gate_verdict_id == first.gate_verdict_id
    assert [s.name for s in back.steps] == HOOKS and back.steps[1].status == "skipped"
    assert [(c, t.version) for c, t in desk.engine.calls] == [("up", "v1"), ("up", "v2"), ("up", "v1")]
    assert desk.engine.calls[-1][1].git_sha == first.git_sha and desk.engine.calls[-1][1].message.startswith("rollback")
    assert {h.git_sha for h in desk.cluster.health.values()} == {"v1"}
    assert desk.releases.current("staging").id == back.id
    assert len(desk.backups.list_backups()) == 3  # a restore point before every `up`
    rollback_message, failure_message = desk.flush()
    assert rollback_message["text"].startswith("staging: rollback to v1 succeeded")
    assert failure_message["text"].startswith("staging: release v2 failed at verify; rolled back automatically to v1")
    assert "trader: ready on version v1" in failure_message["text"]


@pytest.mark.req("DW-1", "DC-6")
def test_dw_1_dc_6_when_the_automatic_rollback_fails_too_the_release_stays_failed_and_slack_says_why(desk):
    deploy(plan("v1"), desk.tools)
    desk.flush()
    desk.cluster.stuck.add("trader")
    desk.engine.on_up.append(lambda target: desk.engine.fail_up.append("cluster unreachable"))

    failed = deploy(plan("v2"), desk.tools)

    assert failed.result == "failed" and failed.rolled_back_to is None
    back = desk.releases.history("staging")[0]
    assert back.kind == "rollback" and back.result == "failed" and back.failed_step == "up"
    rollback_message, failure_message = desk.flush()
    assert rollback_message["text"].startswith("staging: rollback to v1 FAILED at up")
    assert "automatic rollback to v1 FAILED at up" in failure_message["text"]


@pytest.mark.req("DW-4")
def test_dw_4_a_deploy_without_a_database_or_cluster_access_records_the_skipped_hooks(desk):
    desk.tools.restore_points, desk.tools.jobs = None, None
    release = deploy(plan("v1"), desk.tools)
    assert release.result == "succeeded" and release.restore_point is None
    skipped = {s.name: s.detail for s in release.steps if s.status == "skipped"}
    assert skipped == {"restore-point": "no database to back up (first deploy)", "cleanup": "no Kubernetes API access"}


class _BrokenBackups:
    """A restore-point tool that fails in a way no hook anticipates (e.g. an object store's client error)."""

    def create(self, **_: object) -> None:
        raise RuntimeError("S3 said: SlowDown")


@pytest.mark.req("DW-4", "DC-6")
def test_dw_4_dc_6_an_unexpected_error_still_records_the_release_and_tells_slack(desk):
    desk.tools.restore_points = _BrokenBackups()

    release = deploy(plan("v1"), desk.tools)

    assert release.result == "failed" and release.failed_step == "restore-point"
    assert release.error == "RuntimeError: S3 said: SlowDown" and release.steps[-1].status == "failed"
    assert desk.releases.history("staging") == [release] and desk.engine.calls == []
    (message,) = desk.flush()
    assert message["text"].startswith("staging: release v1 FAILED at restore-point")


@pytest.mark.req("DW-1", "DC-3")
def test_dw_1_dc_3_after_a_failed_up_rollback_reapplies_the_release_that_was_running(desk):
    deploy(plan("v1"), desk.tools)
    deploy(plan("v2", services={**stack_config("staging")["tradeops:settings"]["services"]}), desk.tools)
    desk.engine.fail_up.append("kubernetes:apps/v1:Deployment trader: timed out")
    failed = deploy(plan("v3"), desk.tools, auto_rollback=False)
    assert failed.result == "failed" and failed.failed_step == "up"

    back = rollback("staging", desk.tools)

    assert back.version == "v2" and back.result == "succeeded"  # not v1: v2 was running when v3 broke
    assert desk.engine.calls[-1][1].version == "v2"
    desk.engine.fail_up.append("kubernetes:apps/v1:Deployment trader: timed out")
    again = deploy(plan("v4"), desk.tools)  # the deploy path itself: `up` may have changed the stack, so it rolls back
    assert again.result == "rolled back" and again.failed_step == "up" and again.rolled_back_to == "v2"
    assert desk.engine.calls[-1][1].version == "v2" and desk.releases.current("staging").version == "v2"


@pytest.mark.req("DW-1")
def test_dw_1_a_commit_that_cannot_be_checked_out_is_an_engine_error_not_a_crash():
    from pipelines.deploy.engine import EngineError, checkout

    with pytest.raises(EngineError, match="cannot check out 000000000000"), checkout("0" * 40):
        pass
