"""`tradeops cleanup`: the job the cleanup CronJob runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tradeops.cleanup import CleanupPolicy, run_cleanup
from tradeops.cleanup.jobs import KubernetesJobs
from tradeops.cleanup.report import render_markdown, save
from tradeops.notify import Message, open_notifier
from tradeops.settings import load_settings
from tradeops.store import RunStore, open_object_store


def cleanup(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would go; delete nothing")] = False,
    run_days: Annotated[int, typer.Option("--run-days", min=1)] = 30,
    keep_per_strategy: Annotated[int, typer.Option("--keep-per-strategy", min=0)] = 3,
    job_hours: Annotated[int, typer.Option("--job-hours", min=1)] = 24,
    dataset_days: Annotated[int, typer.Option("--dataset-days", min=1, help="dataset versions older go")] = 30,
    dataset_keep_versions: Annotated[
        int, typer.Option("--dataset-keep-versions", min=1, help="newest versions per dataset that stay")
    ] = 3,
    write_grace_hours: Annotated[
        float,
        typer.Option(
            "--write-grace-hours",
            min=0.01,
            help="parts of a dataset write unfinished this long go (at once when its process is gone)",
        ),
    ] = 6,
    kubernetes_host: Annotated[
        str | None,
        typer.Option("--kubernetes-host", help="API server (default: in-cluster when TRADEOPS_NAMESPACE is set)"),
    ] = None,
) -> None:
    """Remove old runs and their reports, orphaned artifacts, old dataset versions, scratch leftovers and old Jobs.

    A dataset version stays while it is one of the newest, or a stored verdict or a stack's candidate names it.
    Scratch files of killed commands go once their process is gone (see docs/cleanup.md).
    """
    settings = load_settings()
    store = RunStore.from_settings(settings)
    objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    jobs = KubernetesJobs(settings.namespace, kubernetes_host) if settings.namespace else None
    protected = {settings.candidate_hash} if settings.candidate_hash else set()
    try:
        report = run_cleanup(
            store,
            objects,
            CleanupPolicy(
                run_days=run_days,
                keep_per_strategy=keep_per_strategy,
                job_hours=job_hours,
                dataset_days=dataset_days,
                dataset_keep_versions=dataset_keep_versions,
                write_grace_hours=write_grace_hours,
            ),
            dry_run=dry_run,
            jobs=jobs,
            protected_hashes=protected,
            current_version=settings.git_sha,
            database_url=settings.resolved_database_url,
        )
    finally:
        store.close()
    key = save(report, objects)
    notifier = open_notifier(settings)
    notifier.send(
        Message(
            kind="cleanup_report",
            title=f"cleanup {'(dry run) ' if dry_run else ''}removed "
            f"{len(report.removed)} item(s), freed {report.bytes_freed:,} bytes",
            fields={"kept": str(len(report.kept)), "report": key},
            lines=[f"{r['what']}: {r['why']}" for r in report.removed[:20]],
        )
    )
    notifier.close()
    typer.echo(render_markdown(report))
    Console(emoji=False, stderr=True).print(f"report stored as {key}")
