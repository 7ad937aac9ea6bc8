"""The pre-deploy hooks, in order: validate the config, run the gate, take a restore point, clean up leftovers."""

from __future__ import annotations

from typing import Any, Protocol

from infra.config import StackConfig, StackConfigError, parse_stack_config
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from tradeops.backup.databases import BackupError, NothingToBackUp
from tradeops.bundles import BundleState
from tradeops.cleanup.jobs import JobsApi
from tradeops.data.datasets import PREFIX as DATASET_PREFIX
from tradeops.data.datasets import open_datasets, parse_ref
from tradeops.engine import BacktestResult
from tradeops.errors import ConfigError, DataError
from tradeops.gate import Verdict, run_gate, running_champion
from tradeops.gate.candidate import Candidate
from tradeops.releases import Release, ReleaseStore, VerdictRecord
from tradeops.store.objects import ObjectStore
from tradeops.trader.risk import RiskLimits

GATE_COMPONENT = "gate"


class StepFailed(Exception):
    """A step of the deploy path failed; nothing after it runs."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


class StepSkipped(Exception):
    """A step with nothing to do here: said, and the deploy goes on."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


class RestorePoints(Protocol):
    """What the deploy needs from the backups (BackupRepository)."""

    def create(self, *, kind: str = "scheduled", label: str | None = None) -> Any: ...


def validate_settings(settings: dict[str, Any], version: str) -> StackConfig:
    """The stack config must validate whole (the same check `pulumi preview` makes first)."""
    try:
        return parse_stack_config(settings, version)
    except StackConfigError as error:
        raise StepFailed("validate", str(error)) from None


def judge(
    config: StackConfig, objects: ObjectStore | None = None, *, stack: str | None = None
) -> tuple[Verdict, BacktestResult | None]:
    """The gate on the stack's candidate (datasets read from `objects`); a crash is undecided, never a pass.

    With `stack`, the candidate is also compared with the bundle running in it (the `champion` check).
    """
    try:
        champion = running_champion(stack, objects) if stack is not None else None
        return run_gate(config.candidate, objects=objects, champion=champion)
    except Exception as error:  # noqa: BLE001 - the gate must fail closed
        return Verdict(error=f"internal error: {type(error).__name__}: {error}"), None


def verdict_reason(verdict: dict[str, Any]) -> str:
    """Why a verdict blocks: the failed checks with value and limit, or why it is undecided."""
    if verdict.get("error"):
        return f"undecided (exit 2): {verdict['error']}"
    failed = [c for c in verdict.get("checks", []) if not c["passed"]]
    return "thresholds not met (exit 1): " + "; ".join(
        f"{c['name']} value {c['value']}, limit {c['limit']}" for c in failed
    )


def gate(stack: str, version: str, config: StackConfig, releases: ReleaseStore) -> VerdictRecord:
    """Run the gate and record its verdict (whatever it is)."""
    return releases.save_verdict(stack, version, judge(config, releases.objects, stack=stack)[0].to_dict())


def require_pass(record: VerdictRecord) -> None:
    """A deploy goes on only on a passed verdict."""
    if not record.passed:
        raise StepFailed("gate", f"verdict {record.id}: {verdict_reason(record.verdict)}")


def reused_gate(release: Release, releases: ReleaseStore) -> VerdictRecord:
    """A rollback may skip the gate only for a version whose recorded verdict passed."""
    if not release.gate_verdict_id:
        raise StepFailed("gate", f"release {release.id} has no gate verdict to reuse")
    return _passed_verdict(releases, release.stack, release.gate_verdict_id, f"version {release.version}")


def _passed_verdict(releases: ReleaseStore, stack: str, verdict_id: str, what: str) -> VerdictRecord:
    try:
        record = releases.verdict(stack, verdict_id)
    except ConfigError as error:
        raise StepFailed("gate", str(error)) from None
    if not record.passed:
        raise StepFailed("gate", f"verdict {record.id} of {what} did not pass")
    return record


def verified_bundle_gate(bundle: BundleState, releases: ReleaseStore) -> VerdictRecord:
    """A bundle deploys without a new gate run only while verified, on the passed verdict it rests on."""
    if bundle.revoked:
        last = bundle.verifications[-1]
        raise StepFailed("gate", f"bundle {bundle.id} is revoked since {last.at:%Y-%m-%d %H:%M} UTC: {last.reason}")
    passed = bundle.last_passed
    if passed is None:
        raise StepFailed("gate", f"bundle {bundle.id} has never passed the gate")
    return _passed_verdict(releases, passed.stack, passed.verdict_id, f"bundle {bundle.id}")


def check_bundle(bundle: BundleState, config: StackConfig, git_sha: str) -> None:
    """Before `up`: the settings deploy exactly the stored bundle (its candidate, risk and commit).

    `bundle` was read from the store, which checked that its bytes hash to its id. Candidate and risk are
    compared as today's models read them, both sides alike, so a field added since the bundle was written
    (at its default) is no difference; the bundle's own bytes and id stay as stored."""
    content, differs = bundle.content, []
    try:
        if config.candidate != Candidate.model_validate(content.candidate):
            differs.append("candidate")
        if config.risk != RiskLimits.model_validate(content.risk):
            differs.append("risk")
    except (ValidationError, ConfigError) as error:
        raise StepFailed("gate", f"bundle {bundle.id} no longer validates: {error}") from None
    if git_sha != content.git_sha:
        differs.append(f"commit ({git_sha[:12]}, the bundle's {content.git_sha[:12]})")
    if differs:
        verb = "differs" if len(differs) == 1 else "differ"
        raise StepFailed("gate", f"the settings do not deploy bundle {bundle.id}: {', '.join(differs)} {verb}")


def data_changed(record: VerdictRecord, config: StackConfig, objects: ObjectStore) -> str | None:
    """Why a recorded verdict no longer speaks for the candidate's data (None: the same data version).

    A `dataset:NAME` reference means the latest version, which may have moved since the verdict.
    """
    reference = config.candidate.data
    if not reference.startswith(DATASET_PREFIX):
        return None
    judged = (record.verdict.get("data") or {}).get("version")
    try:
        now = open_datasets(objects).manifest(parse_ref(reference)).version
    except DataError as error:
        return f"the data cannot be resolved now: {error}"
    if judged != now:
        return f"verdict {record.id} judged {reference} version {judged}, which is now {now}"
    return None


def restore_point(backups: RestorePoints, stack: str, version: str) -> str:
    """A database backup labelled with the version, taken before anything changes (StepSkipped when there is no
    database yet)."""
    try:
        manifest = backups.create(kind="restore-point", label=f"before {stack} {version}")
    except NothingToBackUp as error:
        raise StepSkipped("restore-point", f"nothing to back up yet ({error}): a first deploy") from None
    except (BackupError, OSError, SQLAlchemyError) as error:
        reason = getattr(error, "orig", None) or error
        raise StepFailed("restore-point", f"{type(error).__name__}: {str(reason).splitlines()[0]}") from None
    return str(manifest.id)


def remove_failed_gate_jobs(jobs: JobsApi) -> list[str]:
    """Delete gate Jobs that failed earlier (a failed candidate leaves its Job behind for inspection)."""
    try:
        leftovers = [
            j.name
            for j in jobs.finished()
            if not j.succeeded and j.labels.get("app.kubernetes.io/component") == GATE_COMPONENT
        ]
        for name in leftovers:
            jobs.delete(name)
    except Exception as error:  # noqa: BLE001 - the Kubernetes client raises many types; all stop the deploy
        raise StepFailed("cleanup", f"{type(error).__name__}: {error}") from None
    return leftovers
