"""`tradeops monitor`: health of every service and job; non-zero exit when unhealthy."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from tradeops.cli.options import parse_assignments
from tradeops.errors import TradeopsError
from tradeops.monitor import (
    Finding,
    check_backups,
    check_cronjobs,
    check_gate,
    check_service,
    report,
    running_release,
)
from tradeops.settings import AppSettings, load_settings
from tradeops.store import RunStore, open_object_store


def monitor(
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="NAME=URL of a service; repeat (default: backtester=http://127.0.0.1:8000)"),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="check once and exit (non-zero when unhealthy)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    interval: Annotated[float, typer.Option("--interval", min=1, help="seconds between checks")] = 15,
    backup_max_age_hours: Annotated[float, typer.Option("--backup-max-age-hours", min=0)] = 26,
    heartbeat_max_age: Annotated[float, typer.Option("--heartbeat-max-age", min=1, help="seconds")] = 120,
    cronjob_max_age_hours: Annotated[float, typer.Option("--cronjob-max-age-hours", min=0)] = 26,
    kubernetes_host: Annotated[
        str | None,
        typer.Option("--kubernetes-host", help="API server (default: in-cluster when TRADEOPS_NAMESPACE is set)"),
    ] = None,
) -> None:
    """Check every service's /readyz and /status, the backups, the last gate verdict and (in a namespace) the
    last success of each CronJob."""
    targets = parse_assignments(target, "--target") or {"backtester": "http://127.0.0.1:8000"}
    settings = load_settings()
    while True:
        release, findings = _release(settings)
        findings += [
            check_service(name, url.rstrip("/"), heartbeat_max_age=heartbeat_max_age, release=release)
            for name, url in targets.items()
        ]
        findings += _stores(settings, backup_max_age_hours)
        if settings.namespace:
            findings += check_cronjobs(settings.namespace, max_age_hours=cronjob_max_age_hours, host=kubernetes_host)
        _show(findings, as_json)
        if once:
            raise typer.Exit(0 if all(f.healthy for f in findings) else 1)
        time.sleep(interval)


def _release(settings: AppSettings) -> tuple[str | None, list[Finding]]:
    """In a stack, the version every workload must run (the stack's running release; the stack is the
    environment's name); on a laptop, none. A release store that cannot be read is a finding."""
    if settings.environment == "local":
        return None, []
    try:
        objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
        return running_release(objects, settings.environment), []
    except (TradeopsError, OSError, ValueError) as error:
        return None, [Finding("release", False, f"the release store cannot be read: {type(error).__name__}: {error}")]


def _show(findings: list[Finding], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report(findings)))
        return
    table = Table(title="tradeops monitor")
    for column in ("check", "state", "detail"):
        table.add_column(column)
    for finding in findings:
        state = "[green]ok[/]" if finding.healthy else "[bold red]UNHEALTHY[/]"
        table.add_row(escape(finding.name), state, escape(finding.detail))
    Console(emoji=False).print(table)


def _stores(settings: AppSettings, backup_max_age_hours: float) -> list[Finding]:
    try:
        store = RunStore.from_settings(settings)
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        return [Finding("database", False, f"unreachable: {type(reason).__name__}: {reason}")]
    try:
        objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
        return [
            check_backups(settings.resolved_database_url, objects, max_age_hours=backup_max_age_hours),
            check_gate(store),
        ]
    finally:
        store.close()
