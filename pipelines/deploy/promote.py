"""Promotion: deploy to a stage exactly the bundle running in the stage before it, once it has earned it.

Each condition of the target's promotion policy is judged Passed, Failed or Inconclusive (Argo Rollouts'
outcomes): the bundle passed the gate and is still verified, it soaked long enough in the source stage's
paper trader, its equity stayed within `max_divergence_bps` of a backtest of the same bars, it has its
approvals, and the clock is inside a window and outside every freeze (`--override REASON` for
emergencies, recorded in the release). Anything undecided blocks and says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from infra.config import DAYS, Promotion

from pipelines.deploy.deployer import Plan, Tools, deploy
from tradeops.bundles import BundleState
from tradeops.errors import ConfigError
from tradeops.notify import Message
from tradeops.releases import Release
from tradeops.trader.soak import SoakEvidence, SoakUnavailable

Status = Literal["passed", "failed", "inconclusive"]
SoakSource = Callable[[BundleState, datetime], SoakEvidence]  # raises SoakUnavailable when it cannot tell


@dataclass(frozen=True)
class Condition:
    name: str
    status: Status
    detail: str


@dataclass
class PromotionVerdict:
    """Passed only when every condition passed; any failure fails; else anything undecided is Inconclusive."""

    bundle_id: str
    conditions: list[Condition] = field(default_factory=list)

    @property
    def status(self) -> Status:
        statuses = {c.status for c in self.conditions}
        return "failed" if "failed" in statuses else "inconclusive" if "inconclusive" in statuses else "passed"

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.conditions if c.status != "passed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle_id,
            "status": self.status,
            "conditions": [c.__dict__ for c in self.conditions],
        }


def gate_condition(bundle: BundleState, source: str) -> Condition:
    if not bundle.verifications:
        return Condition("gate", "failed", f"bundle {bundle.id} never passed the gate in {source}")
    last = bundle.verifications[-1]
    if not last.passed:
        return Condition("gate", "failed", f"bundle {bundle.id} is revoked: {last.reason or 'its gate failed'}")
    return Condition("gate", "passed", f"verdict {last.verdict_id} passed in {last.stack}")


def soak_conditions(policy: Promotion, soak: SoakEvidence | SoakUnavailable) -> list[Condition]:
    """Soak time and divergence from the source stage's paper session."""
    if isinstance(soak, SoakUnavailable):
        return [Condition("soak", "inconclusive", f"cannot be measured: {soak}")]
    conditions = []
    if soak.state != "running":
        conditions.append(
            Condition("soak", "failed", f"paper session {soak.session_id} is {soak.state}: {soak.state_reason}")
        )
    elif soak.hours < policy.min_soak_hours:
        conditions.append(
            Condition("soak", "inconclusive", f"soaked {soak.hours:g} h of {policy.min_soak_hours:g} h (incomplete)")
        )
    else:
        conditions.append(Condition("soak", "passed", f"soaked {soak.hours:g} h over {soak.bars} bars"))
    bar = f" (bar {soak.worst_bar})" if soak.worst_bar is not None else ""
    if soak.divergence_bps > policy.max_divergence_bps:
        conditions.append(
            Condition(
                "divergence",
                "failed",
                f"paper equity {soak.divergence_bps:g} bps from the backtest{bar}, limit {policy.max_divergence_bps:g}",
            )
        )
    else:
        conditions.append(Condition("divergence", "passed", f"{soak.divergence_bps:g} bps{bar}"))
    return conditions


def approval_condition(policy: Promotion, bundle: BundleState, stage: str) -> Condition:
    given = bundle.approvals_for(stage)
    who = ", ".join(a.who for a in given) or "nobody"
    if len(given) < policy.approvals:
        return Condition(
            "approvals",
            "inconclusive",
            f"{len(given)} of {policy.approvals} approval(s) for {stage} (so far: {who}); "
            f"approve with `/trading approve {bundle.id}`",
        )
    return Condition("approvals", "passed", f"approved by {who}")


def calendar_problem(policy: Promotion, now: datetime) -> str | None:
    """Why `now` is closed to promotions (a freeze, or outside every window), else None."""
    today = now.date()
    for freeze in policy.freezes:
        if freeze.start <= today <= freeze.end:
            return f"inside freeze {freeze.reason!r} ({freeze.start}..{freeze.end})"
    if not policy.windows:
        return None
    for window in policy.windows:
        local = now.astimezone(ZoneInfo(window.timezone))
        day, clock = DAYS[local.weekday()], local.time().replace(tzinfo=None)
        inside = (
            window.start <= clock < window.end if window.start <= window.end else not window.end <= clock < window.start
        )
        if day in window.days and inside:
            return None
    shown = "; ".join(f"{','.join(w.days)} {w.start:%H:%M}-{w.end:%H:%M} {w.timezone}" for w in policy.windows)
    return f"outside the promotion windows ({shown})"


def calendar_condition(policy: Promotion, now: datetime, override: str | None) -> Condition:
    problem = calendar_problem(policy, now)
    if problem is None:
        return Condition("calendar", "passed", f"{now:%Y-%m-%d %H:%M} UTC is open")
    if override:
        return Condition("calendar", "passed", f"{problem}; overridden: {override}")
    return Condition("calendar", "failed", f"{problem}; `--override REASON` for an emergency")


def live_since(releases: list[Release], bundle_id: str) -> datetime:
    """When the bundle went live in a stage: the finish of the oldest of its consecutive newest releases."""
    since = None
    for release in releases:
        if release.result != "succeeded":
            continue
        if release.bundle_id != bundle_id:
            break
        since = release.finished_at
    if since is None:
        raise ConfigError(f"bundle {bundle_id} is not running")
    return since


@dataclass(frozen=True)
class Request:
    """`tradeops promote --from SOURCE --to TARGET [--bundle ID] [--override REASON]`."""

    source: str
    target: str
    target_settings: dict[str, Any]
    policy: Promotion
    bundle_id: str | None = None
    override: str | None = None


def running_bundle(request: Request, tools: Tools) -> tuple[Release, BundleState]:
    """The source stage's running release and its bundle; --bundle must name that one."""
    current = tools.releases.current(request.source)
    if current is None or current.bundle_id is None:
        raise ConfigError(
            f"{request.source} runs no bundle yet: deploy it first (tradeops deploy --stack {request.source})"
        )
    if request.bundle_id is not None and request.bundle_id != current.bundle_id:
        raise ConfigError(
            f"bundle {request.bundle_id} is not the one running in {request.source} ({current.bundle_id}); "
            "only the running bundle is promoted"
        )
    return current, tools.bundles.get(current.bundle_id)


def judge_promotion(request: Request, tools: Tools, soak_source: SoakSource, now: datetime) -> PromotionVerdict:
    """Every condition of the policy on the source stage's running bundle."""
    if request.policy.from_stage != request.source:
        raise ConfigError(f"{request.target} takes bundles from {request.policy.from_stage}, not {request.source}")
    _, bundle = running_bundle(request, tools)
    since = live_since(tools.releases.history(request.source), bundle.id)
    try:
        soak: SoakEvidence | SoakUnavailable = soak_source(bundle, since)
    except SoakUnavailable as missing:
        soak = missing
    return PromotionVerdict(
        bundle.id,
        [
            gate_condition(bundle, request.source),
            *soak_conditions(request.policy, soak),
            approval_condition(request.policy, bundle, request.target),
            calendar_condition(request.policy, now, request.override),
        ],
    )


def refusal(request: Request, verdict: PromotionVerdict) -> Message:
    return Message(
        kind="promotion_refused",
        title=f"{request.target}: promotion of {verdict.bundle_id} from {request.source} {verdict.status.upper()}",
        fields={"bundle": verdict.bundle_id, "verdict": verdict.status},
        lines=verdict.reasons,
        thread_key=f"release-{request.target}",
        ok=False,
    )


def promote(
    request: Request, tools: Tools, soak_source: SoakSource, now: datetime
) -> tuple[PromotionVerdict, Release | None]:
    """Judge, then (only on Passed) deploy the very bundle to the target stage; Slack hears either way."""
    verdict = judge_promotion(request, tools, soak_source, now)
    if verdict.status != "passed":
        tools.notifier.send(refusal(request, verdict))
        return verdict, None
    # read again, pinned to the judged bundle: staging moving on in between refuses instead of promoting another
    source_release, bundle = running_bundle(replace(request, bundle_id=verdict.bundle_id), tools)
    content = bundle.content
    settings = request.target_settings | {"candidate": content.candidate, "risk": content.risk}
    plan = Plan(
        request.target,
        source_release.version,
        content.git_sha,
        settings,
        kind="promote",
        bundle=bundle,
        promoted_from=request.source,
        approvals=tuple(bundle.approvals_for(request.target)),
        override=request.override if calendar_problem(request.policy, now) else None,
    )
    return verdict, deploy(plan, tools)
