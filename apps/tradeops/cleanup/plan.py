"""What cleanup removes, what it keeps and why; it never touches what the deployed version references."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from tradeops.cleanup.datasets import clean_datasets
from tradeops.cleanup.jobs import FinishedJob, JobsApi
from tradeops.cleanup.scratch import clean_scratch
from tradeops.store import ObjectStore, Run, RunStore
from tradeops.sweeps.cluster import SWEEP_LABEL


class CleanupPolicy(BaseModel):
    """Retention of results and finished Jobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_days: int = Field(30, ge=1, description="finished runs older than this go, with their reports")
    keep_per_strategy: int = Field(3, ge=0, description="the newest N finished runs per kind and strategy stay")
    job_hours: int = Field(24, ge=1, description="finished Kubernetes Jobs older than this go")
    dataset_days: int = Field(30, ge=1, description="dataset versions older than this go, unless kept for a reason")
    dataset_keep_versions: int = Field(3, ge=1, description="the newest N versions of every dataset stay")
    write_grace_hours: float = Field(
        6,
        gt=0,
        description="an unfinished dataset write older than this died, its parts go (sooner when its owner is gone)",
    )


@dataclass
class CleanupReport:
    """Everything cleanup did or would do."""

    dry_run: bool
    started_at: datetime
    removed: list[dict[str, str]] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)
    bytes_freed: int = 0


def _runs_to_remove(
    runs: list[Run], now: datetime, policy: CleanupPolicy, protected: set[str], report: CleanupReport
) -> list[Run]:
    newest: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: r.created_at, reverse=True):
        newest[(run.kind, run.strategy)].append(run)
    remove = []
    for group in newest.values():
        for rank, run in enumerate(group):
            if now - run.created_at <= timedelta(days=policy.run_days):
                continue
            if rank < policy.keep_per_strategy:
                report.kept.append(
                    {
                        "what": f"run {run.id}",
                        "why": f"one of the newest {policy.keep_per_strategy} {run.kind} runs of {run.strategy}",
                    }
                )
            elif run.config_hash and run.config_hash in protected:
                report.kept.append({"what": f"run {run.id}", "why": "the deployed candidate's verdict"})
            else:
                remove.append(run)
    return remove


def run_cleanup(
    store: RunStore,
    objects: ObjectStore,
    policy: CleanupPolicy,
    *,
    dry_run: bool = False,
    jobs: JobsApi | None = None,
    protected_hashes: set[str] | None = None,
    current_version: str | None = None,
    now: datetime | None = None,
    database_url: str | None = None,
) -> CleanupReport:
    """Remove old runs and their objects, orphaned artifacts, scratch leftovers and old finished Jobs; report.

    `database_url`, when a SQLite file, is where restores leave their `.restore-*` scratch files.
    """
    now = now or datetime.now(UTC)
    protected = protected_hashes or set()
    report = CleanupReport(dry_run=dry_run, started_at=now)
    runs = store.finished_runs()
    for run in _runs_to_remove(runs, now, policy, protected, report):
        keys = objects.keys(f"runs/{run.id}/")
        report.removed.append(
            {
                "what": f"run {run.id}",
                "why": f"{run.kind} of {run.strategy}, finished over {policy.run_days} days ago ({len(keys)} objects)",
            }
        )
        report.bytes_freed += sum(objects.size(k) for k in keys)
        if not dry_run:
            for key in keys:
                objects.delete(key)
            store.delete_run(run.id)
    known = {run.id for run in runs} | store.unfinished_ids()  # runs removed above are handled already
    for key in objects.keys("runs/"):
        if key.split("/")[1] not in known:
            report.removed.append({"what": f"object {key}", "why": "its run no longer exists"})
            report.bytes_freed += objects.size(key)
            if not dry_run:
                objects.delete(key)
    clean_datasets(objects, policy, now, dry_run, report)
    clean_scratch(objects, database_url, dry_run, report)
    if jobs is not None:
        for job in _jobs(jobs, now, policy, protected, current_version, dry_run, report):
            if SWEEP_LABEL in job.labels:
                _uncollected_sweep(store, objects, job.labels[SWEEP_LABEL], dry_run, report)
    return report


def _uncollected_sweep(
    store: RunStore, objects: ObjectStore, sweep_id: str, dry_run: bool, report: CleanupReport
) -> None:
    """A sweep whose Job outlived its retention without being collected: its parts go and the run fails."""
    run = store.get(sweep_id)
    if run is None or run.status != "running":
        return  # collected (its parts go with the run by run retention) or already gone
    keys = objects.keys(f"runs/{sweep_id}/")
    report.removed.append(
        {"what": f"sweep {sweep_id}", "why": f"its Job finished and was removed uncollected ({len(keys)} objects)"}
    )
    report.bytes_freed += sum(objects.size(k) for k in keys)
    if not dry_run:
        for key in keys:
            objects.delete(key)
        store.fail(sweep_id, "not collected before cleanup removed its Job; parts removed")


def _jobs(
    jobs: JobsApi,
    now: datetime,
    policy: CleanupPolicy,
    protected: set[str],
    current_version: str | None,
    dry_run: bool,
    report: CleanupReport,
) -> list[FinishedJob]:
    removed = []
    for job in jobs.finished():
        age = now - job.finished_at
        if job.annotations.get("tradeops.io/candidate-hash") in protected or (
            current_version and job.labels.get("app.kubernetes.io/version") == current_version
        ):
            report.kept.append({"what": f"job {job.name}", "why": "belongs to the deployed version"})
        elif age <= timedelta(hours=policy.job_hours):
            report.kept.append({"what": f"job {job.name}", "why": f"finished {age.total_seconds() / 3600:.1f} h ago"})
        else:
            outcome = "succeeded" if job.succeeded else "failed"
            report.removed.append(
                {"what": f"job {job.name}", "why": f"{outcome} {age.total_seconds() / 3600:.0f} h ago"}
            )
            removed.append(job)
            if not dry_run:
                jobs.delete(job.name)
    return removed
