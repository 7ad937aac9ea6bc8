"""Deploy a version of a stack through the hooks, `up` and verification; record it; tell Slack.

A rollback is a deploy of an older release (its version, commit and settings) through the same path;
it may skip the gate only because that version's recorded verdict passed. A stored bundle (a promotion,
a rollback) is checked before `up` and keeps its stored id; any failure once `up` started rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from infra.config import BundleInputs, StackConfig, bundle_content

from pipelines.deploy import hooks
from pipelines.deploy.engine import Engine, EngineError, Target
from pipelines.deploy.messages import stack_update
from pipelines.deploy.verify import VerificationError, wait_for_version
from tradeops.bundles import Approval, BundleState, BundleStore, Verification, dataset_of
from tradeops.cleanup.jobs import JobsApi
from tradeops.errors import ConfigError
from tradeops.notify import Notifier
from tradeops.releases import Release, ReleaseStore, Step, VerdictRecord, new_id


@dataclass
class Tools:
    """Everything a deploy touches; each has a local stand-in in the tests."""

    engine: Engine
    releases: ReleaseStore
    notifier: Notifier
    restore_points: hooks.RestorePoints | None  # None: no database yet (a stack's first deploy), recorded
    jobs: JobsApi | None  # None: no Kubernetes API access for cleanup, recorded
    services: dict[str, str]  # name -> base URL whose /readyz and /status are verified
    verify_timeout: float = 300.0
    verify_interval: float = 2.0
    who: str = "unknown"

    @property
    def bundles(self) -> BundleStore:
        """Bundles live beside the releases, in the same object store."""
        return BundleStore(self.releases.objects)


@dataclass(frozen=True)
class Plan:
    """What to deploy."""

    stack: str
    version: str
    git_sha: str
    settings: dict[str, Any]
    kind: Literal["deploy", "rollback", "promote"] = "deploy"
    reuse_gate_of: Release | None = None  # a rollback's target release
    bundle: BundleState | None = None  # deploy exactly this bundle (its image digest): a promotion or a rollback
    promoted_from: str | None = None
    approvals: tuple[Approval, ...] = ()
    override: str | None = None
    lock_sha256: str | None = None  # the checkout's image lock (a new bundle records it)


STEPS = ("validate", "gate", "restore-point", "cleanup", "up", "verify")


@dataclass
class _Progress:
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def ok(self, name: str, detail: str = "") -> None:
        self.steps.append(Step(name=name, status="ok", detail=detail))

    def skipped(self, name: str, detail: str) -> None:
        self.steps.append(Step(name=name, status="skipped", detail=detail))

    @property
    def running(self) -> str:
        """The step that was running when something escaped: the first one not yet recorded."""
        return STEPS[min(len(self.steps), len(STEPS) - 1)]


def _stored_bundle(plan: Plan, config: StackConfig, tools: Tools) -> BundleState:
    """The plan's bundle read again (its bytes must still hash to its id) and checked against the settings."""
    assert plan.bundle is not None
    try:
        bundle = tools.bundles.get(plan.bundle.id)
    except ConfigError as error:
        raise hooks.StepFailed("gate", str(error)) from None
    hooks.check_bundle(bundle, config, plan.git_sha)
    return bundle


def _gate_step(plan: Plan, config: StackConfig, tools: Tools, progress: _Progress) -> VerdictRecord:
    reused, detail = None, ""
    if plan.bundle is not None:
        reused = hooks.verified_bundle_gate(_stored_bundle(plan, config, tools), tools.releases)
        detail = f"bundle {plan.bundle.id} is verified (verdict {reused.id}); its stored bytes hash to its id"
    elif plan.reuse_gate_of is not None:
        reused = hooks.reused_gate(plan.reuse_gate_of, tools.releases)
        detail = f"version {plan.version} passed verdict {reused.id} before on the same data"
    # a verdict speaks only for the data version it judged: newer market data is gated again
    changed = hooks.data_changed(reused, config, tools.releases.objects) if reused is not None else None
    if reused is not None and changed is None:
        progress.facts |= {"gate_verdict_id": reused.id, "gate_passed": True, "gate_reused": True}
        progress.skipped("gate", detail)
        return reused
    record = hooks.gate(plan.stack, plan.version, config, tools.releases)
    progress.facts |= {"gate_verdict_id": record.id, "gate_passed": record.passed}
    hooks.require_pass(record)
    progress.ok("gate", f"verdict {record.id} passed" + (f" (not reused: {changed})" if changed else ""))
    return record


def _bundle_inputs(plan: Plan, record: VerdictRecord) -> BundleInputs:
    if plan.bundle is not None:  # the same content: the same id wherever it runs
        content = plan.bundle.content
        return BundleInputs(
            git_sha=content.git_sha,
            verdict_id=content.verdict_id,
            dataset=content.dataset.model_dump(mode="json"),
            image=content.image,
            lock_sha256=content.lock_sha256,
        )
    dataset = dataset_of(record.verdict, plan.settings.get("candidate", {}))
    return BundleInputs(
        git_sha=plan.git_sha,
        verdict_id=record.id,
        dataset=dataset.model_dump(mode="json"),
        lock_sha256=plan.lock_sha256,
    )


def _record_bundle(
    plan: Plan, config: StackConfig, inputs: BundleInputs, record: VerdictRecord, outputs: dict[str, Any], tools: Tools
) -> str:
    """The bundle `up` deployed, checked against the program's pod template: a stored bundle keeps its id (never
    recomputed from today's models); a new one is computed here from the image digest and stored."""
    declared, image = outputs.get("bundle_id"), outputs.get("image")
    if plan.bundle is not None:
        if declared is not None and declared != plan.bundle.id:
            raise hooks.StepFailed("up", f"the program declared bundle {declared}, not the deployed {plan.bundle.id}")
        if image is not None and image != plan.bundle.content.image:
            raise hooks.StepFailed("up", f"`up` deployed image {image}, not bundle {plan.bundle.id}'s")
        return plan.bundle.id
    content = bundle_content(config, str(image or ""), inputs)
    if declared is not None and declared != content.id:
        raise hooks.StepFailed("up", f"the program declared bundle {declared}, the deploy computed {content.id}")
    verification = None
    if plan.reuse_gate_of is None:
        verification = Verification(
            bundle_id=content.id,
            stack=plan.stack,
            verdict_id=record.id,
            passed=True,
            dataset=content.dataset,
            at=record.created_at,
        )
    tools.bundles.save(content, verification)
    return content.id


def _run_steps(plan: Plan, tools: Tools, progress: _Progress) -> None:
    config = hooks.validate_settings(plan.settings, plan.version)
    progress.ok("validate", f"tradeops:settings valid for {config.environment}")
    record = _gate_step(plan, config, tools, progress)
    progress.facts["data"] = record.verdict.get("data")
    if tools.restore_points is None:
        progress.skipped("restore-point", "no database to back up (first deploy)")
    else:
        try:
            progress.facts["restore_point"] = hooks.restore_point(tools.restore_points, plan.stack, plan.version)
            progress.ok("restore-point", progress.facts["restore_point"])
        except hooks.StepSkipped as skipped:
            progress.skipped(skipped.step, skipped.reason)
    if tools.jobs is None:
        progress.skipped("cleanup", "no Kubernetes API access")
    else:
        removed = hooks.remove_failed_gate_jobs(tools.jobs)
        progress.ok("cleanup", f"removed {len(removed)} failed gate Job(s): {', '.join(removed) or 'none'}")
    message = f"{plan.kind} {plan.version} ({plan.git_sha[:12]}) gate {record.id}"
    if plan.bundle is not None:
        message += f" bundle {plan.bundle.id}"
    inputs = _bundle_inputs(plan, record)
    target = Target(
        plan.stack,
        plan.version,
        plan.git_sha,
        plan.settings,
        message,
        inputs.model_dump(mode="json"),
        plan.bundle.id if plan.bundle is not None else None,
    )
    try:
        outcome = tools.engine.up(target)
    except EngineError as error:
        raise hooks.StepFailed("up", str(error)) from None
    progress.facts |= {"changes": outcome.changes, "image": outcome.outputs.get("image")}
    progress.facts["bundle_id"] = _record_bundle(plan, config, inputs, record, outcome.outputs, tools)
    progress.ok("up", f"{message}; bundle {progress.facts['bundle_id']}")
    try:
        seen = wait_for_version(
            tools.services, plan.version, timeout=tools.verify_timeout, interval=tools.verify_interval
        )
    except VerificationError as error:
        raise hooks.StepFailed("verify", str(error)) from None
    progress.ok("verify", ", ".join(f"{name} on {version}" for name, version in seen.items()))


AFTER_UP = {"up": "up failed", "verify": "post-deploy check failed"}  # steps that may have changed the stack


def deploy(plan: Plan, tools: Tools, *, auto_rollback: bool = True) -> Release:
    """Run the whole path; on any failure once `up` started roll back to the last verified release."""
    started = datetime.now(UTC)
    progress = _Progress()
    failure: hooks.StepFailed | None = None
    try:
        _run_steps(plan, tools, progress)
    except hooks.StepFailed as failed:
        failure = failed
    except Exception as error:  # noqa: BLE001 - whatever breaks, the release is recorded and Slack is told
        failure = hooks.StepFailed(progress.running, f"{type(error).__name__}: {error}")
    if failure is not None:
        progress.steps.append(Step(name=failure.step, status="failed", detail=failure.reason))
    release = Release(
        id=new_id(plan.kind, started),
        stack=plan.stack,
        kind=plan.kind,
        version=plan.version,
        git_sha=plan.git_sha,
        config=plan.settings,
        steps=progress.steps,
        result="succeeded" if failure is None else "failed",
        failed_step=failure.step if failure else None,
        error=failure.reason if failure else None,
        promoted_from=plan.promoted_from,
        approvals=list(plan.approvals),
        override=plan.override,
        started_at=started,
        finished_at=datetime.now(UTC),
        who=tools.who,
        **progress.facts,
    )
    if failure is not None and failure.step in AFTER_UP and auto_rollback:
        return roll_back_automatically(release, f"{AFTER_UP[failure.step]}: {failure.reason}", tools)
    tools.releases.save(release)
    tools.notifier.send(stack_update(release))
    return release


def roll_back_automatically(failed: Release, reason: str, tools: Tools) -> Release:
    """Deploy the last verified release (revoked bundles skipped) through the rollback path; record why on `failed`."""
    previous = last_verified(tools, failed.stack, other_than=failed.version)
    detail = [f"reason: {reason}"]
    result, rolled_back_to = failed.result, None
    if previous is None:
        detail.append("no earlier good release to roll back to (verified bundles only)")
    else:
        back = deploy(rollback_plan(previous, tools), tools, auto_rollback=False)
        if back.result == "succeeded":
            result, rolled_back_to = "rolled back", previous.version
        else:
            detail.append(f"automatic rollback to {previous.version} FAILED at {back.failed_step}")
    release = failed.model_copy(update={"result": result, "rolled_back_to": rolled_back_to, "rollback_reason": reason})
    tools.releases.save(release)
    tools.notifier.send(stack_update(release, detail=detail))
    return release


def _usable(release: Release, tools: Tools) -> bool:
    """A release can be gone back to unless its bundle is revoked (or missing)."""
    if release.bundle_id is None:
        return True  # recorded before bundles existed: its gate verdict decides (hooks.reused_gate)
    state = tools.bundles.find(release.bundle_id)
    return state is not None and state.verified


def last_verified(tools: Tools, stack: str, *, other_than: str) -> Release | None:
    """The newest succeeded release of another version whose bundle is still verified."""
    return next(
        (
            r
            for r in tools.releases.history(stack)
            if r.result == "succeeded" and r.version != other_than and _usable(r, tools)
        ),
        None,
    )


def rollback_plan(target: Release, tools: Tools) -> Plan:
    """Deploy `target` again: its version, commit and settings, its bundle's image, on its recorded verdict."""
    bundle = tools.bundles.get(target.bundle_id) if target.bundle_id else None  # refuses a missing or altered one
    return Plan(
        target.stack,
        target.version,
        target.git_sha,
        target.config,
        kind="rollback",
        reuse_gate_of=target,
        bundle=bundle,
    )


def rollback(stack: str, tools: Tools, *, to: str | None = None) -> Release:
    """Roll back to the named version, or to the good release before the current one (never a revoked bundle)."""
    if to is not None:
        target = tools.releases.find(stack, to)
        if target.bundle_id is not None:
            tools.bundles.get(target.bundle_id)  # a missing or altered bundle says so
        if not _usable(target, tools):
            raise ConfigError(
                f"version {to} runs bundle {target.bundle_id}, which is revoked: it cannot be a rollback target "
                "until it passes the gate again (tradeops bundles reverify)"
            )
    else:
        target = tools.releases.rollback_target(stack)
        if not _usable(target, tools):
            current = tools.releases.current(stack)
            found = last_verified(tools, stack, other_than=current.version if current else target.version)
            if found is None or found.version == target.version:
                raise ConfigError(f"stack {stack!r} has no verified release to roll back to (bundles revoked)")
            target = found
    return deploy(rollback_plan(target, tools), tools, auto_rollback=False)
