"""`tradeops backup create|list|verify|restore|prune`: the job the backup CronJob runs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tradeops.backup import BackupRepository, RetentionPolicy
from tradeops.backup.repository import summary
from tradeops.cli.options import plain_console
from tradeops.errors import TradeopsError
from tradeops.notify import Message, Notifier, open_notifier
from tradeops.settings import AppSettings, load_settings
from tradeops.store import open_object_store

app = typer.Typer(
    help="Backups with verified restores (database from TRADEOPS_DATABASE_URL, store from TRADEOPS_OBJECT_STORE).",
    no_args_is_help=True,
)
stderr = plain_console(stderr=True)
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _open() -> tuple[AppSettings, BackupRepository, Notifier]:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    return settings, BackupRepository(settings.resolved_database_url, objects), open_notifier(settings)


def _notify(notifier: Notifier, message: Message) -> None:
    notifier.send(message)
    notifier.close()


@app.command("create")
def create(
    kind: Annotated[str, typer.Option("--kind", help="scheduled or restore-point")] = "scheduled",
    label: Annotated[
        str | None, typer.Option("--label", help="e.g. the release version a deploy is about to replace")
    ] = None,
    verify_after: Annotated[
        bool, typer.Option("--verify", help="then test-restore it into a scratch database (what the CronJob runs)")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Dump the database to the object store; print the new backup's id."""
    settings, repository, notifier = _open()
    try:
        manifest = repository.create(kind=kind, label=label)
    except TradeopsError as error:
        _notify(notifier, Message(kind="backup_failed", title="backup FAILED", lines=[str(error)], ok=False))
        raise
    rows = sum(manifest.tables.values())
    _notify(
        notifier,
        Message(
            kind="backup_created",
            title=f"backup {manifest.id} created",
            fields={
                "kind": manifest.kind,
                "size_bytes": str(manifest.size_bytes),
                "rows": str(rows),
                "seconds": str(manifest.dump_seconds),
            },
        ),
    )
    typer.echo(json.dumps({"id": manifest.id, **json.loads(manifest.model_dump_json())}) if as_json else manifest.id)
    if verify_after:
        _verify(repository, open_notifier(settings), manifest.id, to_stderr=as_json)  # stdout stays one JSON object


@app.command("list")
def list_backups(as_json: AsJson = False) -> None:
    """Every complete backup, newest first, with RPO and RTO."""
    _, repository, _ = _open()
    views, corrupt = repository.inventory()
    recovery = repository.recovery(views)
    if as_json:
        listed = [json.loads(v.model_dump_json()) for v in [*views, *corrupt]]
        typer.echo(json.dumps(listed, indent=2))
        return
    typer.echo(summary(views, corrupt))
    if corrupt:
        stderr.print(f"{len(corrupt)} corrupt backup(s) skipped: their manifests cannot be read", highlight=False)
    rpo, rto = recovery["rpo_seconds"], recovery["rto_seconds"]
    stderr.print(
        f"RPO (age of the newest verified backup): {'none verified' if rpo is None else f'{rpo:,.0f} s'}; "
        f"RTO (its measured restore): {'unknown' if rto is None else f'{rto:.2f} s'}"
    )


@app.command("verify")
def verify(backup_id: Annotated[str, typer.Argument(help="backup id")]) -> None:
    """Check the checksum and test-restore into a scratch database; compare row counts."""
    _, repository, notifier = _open()
    _verify(repository, notifier, backup_id)


def _verify(repository: BackupRepository, notifier: Notifier, backup_id: str, *, to_stderr: bool = False) -> None:
    """Test-restore one backup; a failure is recorded on the backup, announced, and exits 2."""
    try:
        checked = repository.verify(backup_id)
    except TradeopsError as error:
        _notify(
            notifier,
            Message(
                kind="backup_verify_failed",
                title=f"backup {backup_id} FAILED verification",
                lines=[str(error)],
                ok=False,
            ),
        )
        raise
    notifier.close()
    line = f"{backup_id}: verified ({checked.tables_checked} tables, restore took {checked.restore_seconds:.2f} s)"
    typer.echo(line, err=to_stderr)


@app.command("restore")
def restore(
    backup_id: Annotated[str, typer.Argument(help="backup id")],
    target_url: Annotated[
        str | None, typer.Option("--target-url", help="restore here instead (e.g. a scratch database)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="confirm: the target's contents are replaced")] = False,
) -> None:
    """Restore a backup into the database (or --target-url); refuses without --yes, or while services have the
    database open (stop them first), and says what the restore drops."""
    _, repository, notifier = _open()
    if yes and target_url is None:  # say what goes before it goes
        for line in repository.restore_plan(backup_id).losses:
            stderr.print(line, markup=False, emoji=False)
    seconds = repository.restore(backup_id, target_url=target_url, confirmed=yes)
    _notify(
        notifier,
        Message(
            kind="restore_done",
            title=f"backup {backup_id} restored",
            fields={"seconds": f"{seconds:.2f}", "target": "scratch" if target_url else "the database"},
        ),
    )
    typer.echo(f"{backup_id}: restored in {seconds:.2f} s")


@app.command("prune")
def prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show the plan, delete nothing")] = False,
    keep_last: Annotated[int, typer.Option("--keep-last", min=1)] = 7,
    daily_days: Annotated[int, typer.Option("--daily-days", min=0)] = 14,
    weekly_weeks: Annotated[int, typer.Option("--weekly-weeks", min=0)] = 8,
    restore_point_days: Annotated[int, typer.Option("--restore-point-days", min=0)] = 30,
) -> None:
    """Apply retention; the newest verified backup is never deleted."""
    _, repository, _ = _open()
    policy = RetentionPolicy(
        keep_last=keep_last, daily_days=daily_days, weekly_weeks=weekly_weeks, restore_point_days=restore_point_days
    )
    keep, delete = repository.prune(policy, dry_run=dry_run)
    for backup_id, reason in keep.items():
        typer.echo(f"keep    {backup_id}  ({reason})")
    for backup_id in delete:
        typer.echo(f"{'would delete' if dry_run else 'deleted'} {backup_id}")
