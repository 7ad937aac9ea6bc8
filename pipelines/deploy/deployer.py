"""Deploy a version of a stack through the hooks, `up` and verification; record it; tell Slack.

A rollback is a deploy of an older release (its version, commit and settings) through the same path;
it may skip the gate only because that version's recorded verdict passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pipelines.deploy import hooks
from pipelines.deploy.engine import Engine, EngineError, Target
from pipelines.deploy.messages import stack_update
from pipelines.deploy.verify import VerificationError, wait_for_version
from tradeops.cleanup.jobs import JobsApi
from tradeops.notify import Notifier
from tradeops.releases import Release, ReleaseStore, Step, new_id


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


@dataclass(frozen=True)
class Plan:
    """What to deploy."""

    stack: str
    version: str
    git_sha: str
    settings: dict[str, Any]
    kind: Literal["deploy", "rollback"] = "deploy"
    reuse_gate_of: Release | None = None  # a rollback's target release


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


def _run_steps(plan: Plan, tools: Tools, progress: _Progress) -> None:
    config = hooks.validate_settings(plan.settings, plan.version)
    progress.ok("validate", f"tradeops:settings valid for {config.environment}")
    reused = hooks.reused_gate(plan.reuse_gate_of, tools.releases) if plan.reuse_gate_of is not None else None
    changed = hooks.data_changed(reused, config, tools.releases.objects) if reused is not None else None
    if reused is not None and changed is None:
        record = reused
        progress.facts |= {"gate_verdict_id": record.id, "gate_passed": True, "gate_reused": True}
        progress.skipped("gate", f"version {plan.version} passed verdict {record.id} before on the same data")
    else:
        record = hooks.gate(plan.stack, plan.version, config, tools.releases)
        progress.facts |= {"gate_verdict_id": record.id, "gate_passed": record.passed}
        hooks.require_pass(record)
        progress.ok("gate", f"verdict {record.id} passed" + (f" (not reused: {changed})" if changed else ""))
    progress.facts["data"] = record.verdict.get("data")
    if tools.restore_points is None:
        progress.skipped("restore-point", "no database to back up (first deploy)")
    else:
        progress.facts["restore_point"] = hooks.restore_point(tools.restore_points, plan.stack, plan.version)
        progress.ok("restore-point", progress.facts["restore_point"])
    if tools.jobs is None:
        progress.skipped("cleanup", "no Kubernetes API access")
    else:
        removed = hooks.remove_failed_gate_jobs(tools.jobs)
        progress.ok("cleanup", f"removed {len(removed)} failed gate Job(s): {', '.join(removed) or 'none'}")
    message = f"{plan.kind} {plan.version} ({plan.git_sha[:12]}) gate {record.id}"
    try:
        outcome = tools.engine.up(Target(plan.stack, plan.version, plan.git_sha, plan.settings, message))
    except EngineError as error:
        raise hooks.StepFailed("up", str(error)) from None
    progress.facts |= {"changes": outcome.changes, "image": outcome.outputs.get("image")}
    progress.ok("up", message)
    try:
        seen = wait_for_version(
            tools.services, plan.version, timeout=tools.verify_timeout, interval=tools.verify_interval
        )
    except VerificationError as error:
        raise hooks.StepFailed("verify", str(error)) from None
    progress.ok("verify", ", ".join(f"{name} on {version}" for name, version in seen.items()))


def deploy(plan: Plan, tools: Tools, *, auto_rollback: bool = True) -> Release:
    """Run the whole path; on a verification failure roll back to the previous good release."""
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
    result: Literal["succeeded", "failed", "rolled back"] = "succeeded" if failure is None else "failed"
    rolled_back_to, detail = None, []
    if failure is not None and failure.step == "verify" and auto_rollback:
        previous = tools.releases.previous_good(plan.stack, other_than=plan.version)
        if previous is None:
            detail.append("no earlier good release to roll back to")
        else:
            back = deploy(rollback_plan(previous), tools, auto_rollback=False)
            if back.result == "succeeded":
                result, rolled_back_to = "rolled back", previous.version
            else:
                detail.append(f"automatic rollback to {previous.version} FAILED at {back.failed_step}")
    release = Release(
        id=new_id(plan.kind, started),
        stack=plan.stack,
        kind=plan.kind,
        version=plan.version,
        git_sha=plan.git_sha,
        config=plan.settings,
        steps=progress.steps,
        result=result,
        failed_step=failure.step if failure else None,
        error=failure.reason if failure else None,
        rolled_back_to=rolled_back_to,
        started_at=started,
        finished_at=datetime.now(UTC),
        who=tools.who,
        **progress.facts,
    )
    tools.releases.save(release)
    tools.notifier.send(stack_update(release, detail=detail))
    return release


def rollback_plan(target: Release) -> Plan:
    """Deploy `target` again: its version, commit and settings, on its recorded verdict."""
    return Plan(target.stack, target.version, target.git_sha, target.config, kind="rollback", reuse_gate_of=target)


def rollback(stack: str, tools: Tools, *, to: str | None = None) -> Release:
    """Roll back to the named version, or to the good release before the current one."""
    target = tools.releases.find(stack, to) if to is not None else tools.releases.rollback_target(stack)
    return deploy(rollback_plan(target), tools, auto_rollback=False)
