"""Promotion (DC-22): staging's running bundle reaches prod only when gated, soaked, close to its backtest,
approved and inside the calendar; a failed re-verification revokes; rollbacks go to the last verified bundle."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from infra.config import Freeze, Window
from pipelines.deploy.deployer import Plan, deploy, rollback
from pipelines.deploy.promote import promote
from pipelines.deploy.reverify import PostDeployPolicy, post_deploy_check, reverify
from pipelines.infra.evaluate import stack_config

from tests.pipelines.deploy.conftest import plan
from tests.pipelines.deploy.promotion_setup import (
    NOW,
    OLD_RISK_FIELDS,
    POLICY,
    SESSION,
    Ledger,
    old_schema_bundle,
    open_ledger,
    request,
    revoke,
)
from tradeops.bundles import Approver
from tradeops.errors import ConfigError
from tradeops.store.models import TraderSessionRow

pytestmark = pytest.mark.req("DC-22")


@pytest.fixture(scope="module", autouse=True)
def market_data(tmp_path_factory):
    """What staging's market-data CronJob keeps in the store the trader and the soak check read."""
    from tests.fakes.exchange import seed_stack_datasets
    from tradeops.store.objects import FolderObjectStore

    folder = tmp_path_factory.mktemp("market")
    seed_stack_datasets(FolderObjectStore(folder), ("staging",))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADEOPS_OBJECT_STORE", folder.as_uri())
        yield


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Ledger:
    return open_ledger(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'staging.db'}")


@pytest.fixture
def staged(desk, ledger):
    """v1 deployed to staging, soaked 30 h, approved once; the session is running and matches the backtest."""
    release = deploy(plan("v1"), desk.tools)
    assert release.result == "succeeded" and release.bundle_id
    ledger.soaked(release.finished_at, 30)
    ledger.set(TraderSessionRow, TraderSessionRow.id == SESSION, state="running", state_reason=None)
    desk.flush()
    return release


def _approve(desk, bundle_id: str, who: str = "slack:U0APPROVER") -> None:
    desk.tools.bundles.approve(bundle_id, "prod", Approver.slack(who.removeprefix("slack:")))


def _refused(desk, ledger, **changes):
    verdict, release = promote(request(**changes), desk.tools, ledger.soak_source, changes.pop("now", NOW))
    assert release is None
    assert not [r for r in desk.releases.history("prod")]  # nothing reached prod
    return verdict


def test_dc_22_promotion_refused_without_a_gate_pass(desk, ledger, staged):
    _approve(desk, staged.bundle_id)
    revoke(desk.tools.bundles, staged.bundle_id, "thresholds not met (exit 1): sharpe value 0.1, limit 0.5")
    verdict = _refused(desk, ledger)
    assert verdict.status == "failed"
    assert verdict.reasons == [
        f"gate: bundle {staged.bundle_id} is revoked: thresholds not met (exit 1): sharpe value 0.1, limit 0.5"
    ]
    (message,) = desk.flush()
    assert message["text"].startswith(f"prod: promotion of {staged.bundle_id} from staging FAILED")


def test_dc_22_promotion_waits_for_a_short_soak_and_says_what_is_missing(desk, ledger, staged):
    _approve(desk, staged.bundle_id)
    ledger.soaked(staged.finished_at, 3)
    verdict = _refused(desk, ledger)
    assert verdict.status == "inconclusive"
    assert verdict.reasons == ["soak: soaked 3 h of 24 h (incomplete)"]


def test_dc_22_promotion_refused_when_the_paper_equity_diverges_from_the_backtest(desk, ledger, staged):
    _approve(desk, staged.bundle_id)
    ledger.shift_equity(200, 1.01)  # one bar 1% off: 100 bps
    try:
        verdict = _refused(desk, ledger)
    finally:
        ledger.shift_equity(200, 1 / 1.01)
    assert verdict.status == "failed"
    (reason,) = verdict.reasons
    assert reason.startswith("divergence: paper equity 100") and "(bar 200), limit 50" in reason


def test_dc_22_promotion_waits_for_its_approvals(desk, ledger, staged):
    verdict = _refused(desk, ledger)
    assert verdict.status == "inconclusive"
    assert verdict.reasons == [
        f"approvals: 0 of 1 approval(s) for prod (so far: nobody); approve with `/trading approve {staged.bundle_id}`"
    ]
    desk.tools.bundles.approve(staged.bundle_id, "staging", Approver.slack("U0OTHER"))  # for another stage
    assert _refused(desk, ledger).status == "inconclusive"


def test_dc_22_promotion_refused_inside_a_freeze_or_outside_the_windows_unless_overridden(desk, ledger, staged):
    _approve(desk, staged.bundle_id)
    frozen = POLICY.model_copy(
        update={"freezes": (Freeze(start=date(2026, 3, 3), end=date(2026, 3, 5), reason="quarter close"),)}
    )
    verdict = _refused(desk, ledger, policy=frozen)
    assert verdict.status == "failed"
    assert verdict.reasons == [
        "calendar: inside freeze 'quarter close' (2026-03-03..2026-03-05); `--override REASON` for an emergency"
    ]
    evenings = POLICY.model_copy(
        update={
            "windows": (
                Window(
                    days=("mon", "tue", "wed", "thu", "fri"), start=time(21), end=time(2), timezone="America/New_York"
                ),
            )
        }
    )
    verdict = _refused(desk, ledger, policy=evenings)  # 12:00 UTC is 07:00 in New York
    assert verdict.reasons == [
        "calendar: outside the promotion windows (mon,tue,wed,thu,fri 21:00-02:00 America/New_York); "
        "`--override REASON` for an emergency"
    ]
    late = NOW.replace(hour=3)  # 22:00 Tuesday in New York: inside the window that spans midnight
    verdict, release = promote(request(policy=evenings), desk.tools, ledger.soak_source, late)
    assert verdict.status == "passed" and release is not None and release.override is None

    verdict, release = promote(
        request(policy=frozen, override="exchange outage fix, INC-42"), desk.tools, ledger.soak_source, NOW
    )
    assert verdict.status == "passed" and release is not None and release.result == "succeeded"
    assert release.override == "exchange outage fix, INC-42"


def test_dc_22_promotion_deploys_to_prod_the_identical_bundle_without_a_rebuild(desk, ledger, staged):
    _approve(desk, staged.bundle_id, "slack:U0ALICE")
    _approve(desk, staged.bundle_id, "slack:U0ALICE")  # the same person twice counts once
    staging_bundle = desk.tools.bundles.get(staged.bundle_id)

    verdict, release = promote(request(bundle_id=staged.bundle_id), desk.tools, ledger.soak_source, NOW)

    assert verdict.status == "passed" and [c.status for c in verdict.conditions] == ["passed"] * 5
    assert release is not None and release.result == "succeeded" and release.kind == "promote"
    assert release.stack == "prod" and release.bundle_id == staged.bundle_id and release.promoted_from == "staging"
    assert release.image == staging_bundle.content.image and desk.engine.builds["prod"] == []  # never rebuilt
    assert desk.engine.outputs["prod"]["bundle_id"] == staged.bundle_id  # the prod gate Job's pod template
    assert release.config["candidate"] == staging_bundle.content.candidate
    assert release.config["namespace"] == "tradeops-prod" and release.git_sha == staged.git_sha
    assert [(a.who, a.source) for a in release.approvals] == [("slack:U0ALICE", "slack")]
    assert desk.releases.current("prod") == release
    (message,) = desk.flush()
    assert f"bundle: {staged.bundle_id}" in message["text"] and "approved by: slack:U0ALICE (slack)" in message["text"]
    with pytest.raises(ConfigError, match="is not the one running in staging"):
        promote(request(bundle_id="bundle-000000000000000000000000"), desk.tools, ledger.soak_source, NOW)


def test_dc_22_a_failed_reverification_revokes_the_bundle_until_it_passes_again(desk, ledger, staged):
    _approve(desk, staged.bundle_id)
    too_short = "sample:synthetic?bars=120"  # fresher data on which the candidate fails its thresholds
    verification = reverify("staging", desk.tools.bundles.get(staged.bundle_id), desk.tools, data=too_short)

    assert not verification.passed and verification.reason.startswith("thresholds not met (exit 1)")
    assert verification.dataset is not None and verification.dataset.ref == too_short
    state = desk.tools.bundles.get(staged.bundle_id)
    assert state.revoked and not state.verified
    (message,) = desk.flush()
    assert message["text"].startswith(f"staging: bundle {staged.bundle_id} REVOKED")
    assert _refused(desk, ledger).status == "failed"
    deploy(plan("v2", candidate=staged.config["candidate"] | {"params": {"fast": 12, "slow": 40}}), desk.tools)
    with pytest.raises(ConfigError, match="is revoked: it cannot be a rollback target"):
        rollback("staging", desk.tools, to="v1")

    again = reverify("staging", desk.tools.bundles.get(staged.bundle_id), desk.tools)  # the gate's own data
    assert again.passed and desk.tools.bundles.get(staged.bundle_id).verified
    assert desk.flush()[-1]["text"].startswith(f"staging: bundle {staged.bundle_id} verified again")
    assert rollback("staging", desk.tools, to="v1").result == "succeeded"


def _params(fast: int, slow: int, base: dict) -> dict:
    return base | {"params": {"fast": fast, "slow": slow}}


def test_dc_22_automatic_rollback_goes_to_the_last_verified_bundle_skipping_revoked_ones(desk):
    v1 = deploy(plan("v1"), desk.tools)
    candidate = v1.config["candidate"]
    v2 = deploy(plan("v2", candidate=_params(12, 40, candidate)), desk.tools)
    assert v1.bundle_id != v2.bundle_id
    revoke(desk.tools.bundles, v2.bundle_id, "failed on fresher data")
    desk.cluster.stuck.add("trader")  # v3's trader never comes up
    desk.engine.on_up.insert(0, lambda target: desk.cluster.stuck.discard("trader") if target.version == "v1" else None)
    desk.flush()

    failed = deploy(plan("v3", candidate=_params(8, 25, candidate)), desk.tools)

    assert failed.result == "rolled back" and failed.rolled_back_to == "v1"  # v2's bundle is revoked
    assert failed.rollback_reason.startswith("post-deploy check failed: not on version v3")
    back = desk.releases.current("staging")
    assert back.kind == "rollback" and back.bundle_id == v1.bundle_id and back.image == v1.image
    assert desk.engine.builds["staging"] == []  # the rollback redeployed v1's digest
    texts = [m["text"] for m in desk.flush()]
    assert texts[-1].startswith("staging: release v3 failed at verify; rolled back automatically to v1")
    assert "reason: post-deploy check failed" in texts[-1]


def test_dc_22_a_risk_halt_in_the_first_bars_after_a_promotion_rolls_back(desk, ledger, staged):
    _approve(desk, staged.bundle_id)
    first = deploy(plan("v0", stack="prod"), desk.tools)  # prod's own earlier release
    _, promoted = promote(request(), desk.tools, ledger.soak_source, NOW)
    assert promoted is not None and promoted.result == "succeeded"
    policy = PostDeployPolicy.of(POLICY)
    assert post_deploy_check("prod", desk.tools, policy, ledger.soak_source) == ([], None)  # healthy: nothing done

    since = promoted.finished_at - timedelta(minutes=5)
    ledger.set(
        TraderSessionRow, TraderSessionRow.id == SESSION, state="halted", state_reason="max_daily_loss_pct 3.2 > 3"
    )
    from tradeops.store.models import TraderEquityRow

    ledger.set(TraderEquityRow, TraderEquityRow.bar >= 250, time=since + timedelta(minutes=10))
    desk.flush()
    problems, release = post_deploy_check("prod", desk.tools, policy, ledger.soak_source)

    assert problems == ["risk halt after 10 bar(s), within the first 20: max_daily_loss_pct 3.2 > 3"]
    assert release is not None and release.result == "rolled back" and release.rolled_back_to == "v0"
    assert release.failed_step == "post-deploy" and "risk halt after 10 bar(s)" in release.rollback_reason
    assert desk.releases.current("prod").bundle_id == first.bundle_id
    assert "rolled back automatically to v0" in desk.flush()[-1]["text"]


def _running_old_bundle(desk, ledger):
    """Staging runs a bundle the previous schema wrote, soaked and approved; prod runs a release of its own."""
    old = old_schema_bundle(desk.tools)
    ledger.soaked(old.finished_at, 30)
    ledger.set(TraderSessionRow, TraderSessionRow.id == SESSION, state="running", state_reason=None)
    _approve(desk, old.bundle_id)
    assert deploy(plan("p1", stack="prod"), desk.tools).result == "succeeded"
    return old


@pytest.mark.req("DC-57")
def test_dc_22_dc_57_a_bundle_the_previous_schema_wrote_is_promoted_and_rolled_back_under_its_own_id(desk, ledger):
    old = _running_old_bundle(desk, ledger)
    stored = desk.tools.bundles.get(old.bundle_id)
    assert set(stored.content.risk) == set(OLD_RISK_FIELDS)  # none of this wave's limits

    verdict, promoted = promote(request(), desk.tools, ledger.soak_source, NOW)

    assert verdict.status == "passed", verdict.reasons
    assert promoted is not None and promoted.result == "succeeded", promoted and promoted.error
    assert promoted.bundle_id == old.bundle_id and desk.engine.outputs["prod"]["bundle_id"] == old.bundle_id
    assert desk.engine.builds["prod"] == [] and promoted.image == stored.content.image  # its digest, never rebuilt
    assert promoted.config["risk"] == stored.content.risk
    assert desk.tools.bundles.get(old.bundle_id) == stored  # nothing rewritten beside it

    later = deploy(plan("p2", stack="prod"), desk.tools)
    assert later.result == "succeeded" and later.bundle_id != old.bundle_id
    back = rollback("prod", desk.tools)

    assert back.result == "succeeded", back.error
    assert back.kind == "rollback" and back.version == old.version and back.bundle_id == old.bundle_id
    assert desk.engine.outputs["prod"]["bundle_id"] == old.bundle_id and desk.engine.builds["prod"] == []
    assert [r.bundle_id for r in desk.releases.history("prod")][:3] == [old.bundle_id, later.bundle_id, old.bundle_id]


@pytest.mark.req("DC-58")
def test_dc_22_dc_58_a_failure_after_up_started_rolls_back_to_the_last_verified_bundle_an_old_one_too(desk, ledger):
    old = _running_old_bundle(desk, ledger)
    _, promoted = promote(request(), desk.tools, ledger.soak_source, NOW)
    assert promoted is not None and promoted.result == "succeeded", promoted and promoted.error
    desk.flush()
    desk.engine.fail_up.append("kubernetes:apps/v1:Deployment trader: timed out")  # `up` changed part of the stack

    failed = deploy(plan("p2", stack="prod"), desk.tools)

    assert failed.result == "rolled back" and failed.failed_step == "up" and failed.rolled_back_to == old.version
    reason = "up failed: pulumi up --stack prod failed: kubernetes:apps/v1:Deployment trader: timed out"
    assert failed.rollback_reason == reason
    back = desk.releases.current("prod")
    assert back.kind == "rollback" and back.bundle_id == old.bundle_id and back.result == "succeeded"
    assert [(call, target.version) for call, target in desk.engine.calls[-2:]] == [("up", "p2"), ("up", old.version)]
    told = desk.flush()[-1]["text"]
    assert told.startswith(f"prod: release p2 failed at up; rolled back automatically to {old.version}")


@pytest.mark.req("DC-58")
def test_dc_22_dc_58_a_bundle_is_checked_before_up_its_bytes_against_its_id_and_the_settings_against_its_content(
    desk, ledger
):
    old = _running_old_bundle(desk, ledger)
    state = desk.tools.bundles.get(old.bundle_id)
    ups = len(desk.engine.calls)
    settings = stack_config("prod")["tradeops:settings"] | {"candidate": state.content.candidate}
    mismatched = Plan(
        "prod", old.version, old.git_sha, settings | {"risk": {"max_drawdown_pct": 90}}, kind="promote", bundle=state
    )

    release = deploy(mismatched, desk.tools)

    assert release.result == "failed" and release.failed_step == "gate" and len(desk.engine.calls) == ups
    assert f"the settings do not deploy bundle {old.bundle_id}: risk differs" in release.error

    key = f"bundles/{old.bundle_id}/content.json"
    document = json.loads(desk.releases.objects.get(key))
    document["content"]["risk"]["max_drawdown_pct"] = 90  # edited in the store: the id no longer fits the bytes
    desk.releases.objects.put(key, json.dumps(document).encode())
    release = deploy(replace(mismatched, settings=settings | {"risk": document["content"]["risk"]}), desk.tools)

    assert release.result == "failed" and release.failed_step == "gate" and len(desk.engine.calls) == ups
    assert f"bundle {old.bundle_id} is not what was stored: its content hashes to bundle-" in release.error
    with pytest.raises(ConfigError, match="its content hashes to bundle-"):
        promote(request(), desk.tools, ledger.soak_source, NOW)
    with pytest.raises(ConfigError, match="its content hashes to bundle-"):
        rollback("staging", desk.tools, to=old.version)
