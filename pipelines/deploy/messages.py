"""The Slack messages of the pipelines: stack updates, rollbacks, drift and failed CI jobs."""

from __future__ import annotations

from pipelines.deploy.engine import summary_line
from tradeops.notify import Message
from tradeops.releases import Release


def _gate(release: Release) -> str:
    if release.gate_verdict_id is None:
        return "not run"
    word = "passed" if release.gate_passed else "FAILED"
    return f"{word} ({release.gate_verdict_id}{', reused' if release.gate_reused else ''})"


def stack_update(release: Release, *, detail: list[str] | None = None) -> Message:
    """One stack update (deploy or rollback) as it ended: version, changes, gate verdict, duration."""
    action = {"rollback": "rollback to", "promote": f"promotion from {release.promoted_from} of"}.get(
        release.kind, "release"
    )
    if release.result == "succeeded":
        title = f"{release.stack}: {action} {release.version} succeeded"
    elif release.result == "rolled back":
        title = (
            f"{release.stack}: release {release.version} failed at {release.failed_step}; "
            f"rolled back automatically to {release.rolled_back_to}"
        )
    else:
        title = f"{release.stack}: {action} {release.version} FAILED at {release.failed_step}"
    fields = {
        "version": release.version,
        "git sha": release.git_sha[:12],
        "changes": summary_line(release.changes) if release.changes else "none applied",
        "gate": _gate(release),
        "duration": f"{release.duration_seconds:.1f} s",
        "by": release.who,
    }
    if release.bundle_id:
        fields["bundle"] = release.bundle_id
    if release.approvals:
        fields["approved by"] = ", ".join(f"{a.who} ({a.source})" for a in release.approvals)
    if release.override:
        fields["override"] = release.override
    if release.rollback_reason:
        fields["rollback reason"] = release.rollback_reason
    if release.restore_point:
        fields["restore point"] = release.restore_point
    lines = [f"error: {release.error}"] if release.error else []
    return Message(
        kind=f"stack_{release.kind}",
        title=title,
        fields=fields,
        lines=lines + (detail or []),
        thread_key=f"release-{release.stack}",
        ok=release.result == "succeeded",
    )


def drift(stack: str, changes: dict[str, int], error: str | None) -> Message:
    """The scheduled drift check found the deployed stack differs from the program (or could not tell)."""
    return Message(
        kind="stack_drift",
        title=f"{stack}: drift detected, the deployed stack differs from the program",
        fields={"changes": summary_line(changes)},
        lines=[error] if error else [],
        ok=False,
    )


def failed_job(workflow: str, job: str, url: str | None, ref: str | None) -> Message:
    """A CI job failed."""
    fields = {"workflow": workflow, "job": job}
    if ref:
        fields["ref"] = ref
    return Message(
        kind="job_failed",
        title=f"CI job {job} of {workflow} failed",
        fields=fields,
        lines=[url] if url else [],
        ok=False,
    )
