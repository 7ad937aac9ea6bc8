"""Keeping bundles honest after they ship: re-verification on fresher data, and post-deploy checks.

A bundle whose gate fails on fresher data is revoked (no promotion, no rollback to it) until a later
gate passes it again. A post-deploy check that fails (services not ready or on mixed versions, the
paper equity beyond the divergence limit, a risk halt within the first bars) rolls the stack back to
the last verified release through the rollback path, with the reason in the release and in Slack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from infra.config import Promotion

from pipelines.deploy.deployer import Tools, roll_back_automatically
from pipelines.deploy.hooks import verdict_reason
from pipelines.deploy.verify import VerificationError, wait_for_version
from tradeops.bundles import BundleState, Verification, dataset_of
from tradeops.gate import Verdict, run_gate
from tradeops.gate.candidate import validate_candidate
from tradeops.notify import Message
from tradeops.releases import Release
from tradeops.trader.soak import SoakEvidence, SoakUnavailable


def _gate(candidate: dict, data: str | None) -> Verdict:
    chosen = validate_candidate(candidate | ({"data": data} if data else {}), "bundle candidate")
    try:
        return run_gate(chosen)[0]
    except Exception as error:  # noqa: BLE001 - the gate fails closed
        return Verdict(error=f"internal error: {type(error).__name__}: {error}")


def reverify(stack: str, bundle: BundleState, tools: Tools, *, data: str | None = None) -> Verification:
    """Gate the bundle's candidate again (on `data`, e.g. a newer dataset version); record it; Slack on a change."""
    verdict = _gate(bundle.content.candidate, data)
    record = tools.releases.save_verdict(stack, f"reverify {bundle.id}", verdict.to_dict())
    candidate = bundle.content.candidate | ({"data": data} if data else {})
    verification = Verification(
        bundle_id=bundle.id,
        stack=stack,
        verdict_id=record.id,
        passed=record.passed,
        reason="" if record.passed else verdict_reason(record.verdict),
        dataset=dataset_of(record.verdict, candidate),
        at=record.created_at,
    )
    tools.bundles.record(verification)
    if bundle.verified and not verification.passed:
        title = f"{stack}: bundle {bundle.id} REVOKED: its gate failed on fresher data"
        lines = [verification.reason, "it cannot be promoted or be a rollback target until it passes again"]
    elif bundle.revoked and verification.passed:
        title, lines = f"{stack}: bundle {bundle.id} verified again", []
    else:
        return verification
    fields = {
        "bundle": bundle.id,
        "verdict": record.id,
        "data": verification.dataset.ref if verification.dataset else "?",
    }
    tools.notifier.send(
        Message(kind="bundle_verification", title=title, fields=fields, lines=lines, ok=verification.passed)
    )
    return verification


@dataclass(frozen=True)
class PostDeployPolicy:
    max_divergence_bps: float | None
    first_bars: int

    @classmethod
    def of(cls, policy: Promotion | None) -> PostDeployPolicy:
        if policy is None:
            return cls(None, 0)
        return cls(policy.max_divergence_bps, policy.post_deploy_bars)


def trading_problems(policy: PostDeployPolicy, soak: SoakEvidence | SoakUnavailable) -> list[str]:
    """Divergence beyond the limit, or a risk halt within the first bars after the release."""
    if isinstance(soak, SoakUnavailable):
        return []  # nothing to judge yet is not a failure; readiness covers a trader that is down
    problems = []
    if policy.max_divergence_bps is not None and soak.divergence_bps > policy.max_divergence_bps:
        problems.append(
            f"divergence {soak.divergence_bps:g} bps from the backtest (bar {soak.worst_bar}), "
            f"limit {policy.max_divergence_bps:g}"
        )
    if soak.state == "halted" and soak.bars_since <= policy.first_bars:
        problems.append(
            f"risk halt after {soak.bars_since} bar(s), within the first {policy.first_bars}: {soak.state_reason}"
        )
    return problems


def post_deploy_check(
    stack: str,
    tools: Tools,
    policy: PostDeployPolicy,
    soak_source: Callable[[BundleState, datetime], SoakEvidence],
) -> tuple[list[str], Release | None]:
    """Check the running release; on a problem roll back to the last verified one. Returns (problems, release)."""
    current = tools.releases.current(stack)
    if current is None:
        return [], None  # nothing deployed yet: nothing to check (the first promotion must not wait on this)
    problems = []
    try:
        wait_for_version(tools.services, current.version, timeout=tools.verify_timeout, interval=tools.verify_interval)
    except VerificationError as error:
        problems.append(str(error))
    bundle = tools.bundles.find(current.bundle_id) if current.bundle_id else None
    if bundle is not None:
        try:
            soak: SoakEvidence | SoakUnavailable = soak_source(bundle, current.finished_at)
        except SoakUnavailable as missing:
            soak = missing
        problems += trading_problems(policy, soak)
    if not problems:
        return [], None
    failed = current.model_copy(update={"failed_step": "post-deploy", "error": "; ".join(problems)})
    return problems, roll_back_automatically(failed, "post-deploy check failed: " + "; ".join(problems), tools)


def now() -> datetime:
    return datetime.now(UTC)
