"""`tradeops deploy`, `tradeops rollback`, `tradeops releases`: versioned stack updates from a checkout."""

from __future__ import annotations

import getpass
import json
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.git import git
from tradeops.releases import Release, ReleaseStore
from tradeops.settings import AppSettings, load_settings
from tradeops.store import open_object_store

if TYPE_CHECKING:
    from pipelines.deploy.deployer import Tools


Stack = Annotated[str, typer.Option("--stack", help="stack name (infra/stacks/Pulumi.<stack>.yaml)")]
Targets = Annotated[
    list[str] | None,
    typer.Option(
        "--target", help="NAME=URL of a service to verify; repeat [default: the stack's in-cluster Service URLs]"
    ),
]
VerifyTimeout = Annotated[float, typer.Option("--verify-timeout", min=1, help="seconds for every service to be ready")]
NoRestorePoint = Annotated[
    bool, typer.Option("--no-restore-point", help="skip the database restore point (a stack's first deploy only)")
]
KubernetesHost = Annotated[
    str | None, typer.Option("--kubernetes-host", help="API server for cleanup [default: in-cluster or kubeconfig]")
]
stderr = Console(emoji=False, stderr=True, soft_wrap=True)


def default_services(settings: dict[str, Any]) -> dict[str, str]:
    """The stack's Services inside the cluster, for those with replicas."""
    from infra.components.common import HTTP_PORT
    from infra.config import StackConfig

    config = StackConfig.model_validate(settings)
    return {
        name: f"http://tradeops-{name}.{config.namespace}.svc.cluster.local:{HTTP_PORT}"
        for name in ("backtester", "trader", "slackbot", "mcp")
        if getattr(config.services, name).replicas > 0
    }


def build_tools(
    settings: AppSettings,
    services: dict[str, str],
    namespace: str,
    *,
    verify_timeout: float,
    restore_point: bool,
    kubernetes_host: str | None,
) -> Tools:
    """Everything a deploy touches, from the TRADEOPS_* settings of the machine running it."""
    from pipelines.deploy import engine as engines
    from pipelines.deploy.deployer import Tools
    from tradeops.backup import BackupRepository
    from tradeops.cleanup.jobs import KubernetesJobs
    from tradeops.notify import open_notifier

    engine = engines.open_engine()  # first: without the pulumi CLI nothing else is worth starting
    objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    try:
        jobs = KubernetesJobs(namespace, kubernetes_host)
    except Exception as error:  # noqa: BLE001 - no cluster credentials here: cleanup is skipped and recorded
        stderr.print(f"no Kubernetes API access ({type(error).__name__}): failed gate Jobs stay")
        jobs = None
    return Tools(
        engine=engine,
        releases=ReleaseStore(objects),
        notifier=open_notifier(settings),
        restore_points=BackupRepository(settings.resolved_database_url, objects) if restore_point else None,
        jobs=jobs,
        services=services,
        verify_timeout=verify_timeout,
        who=os.environ.get("GITHUB_ACTOR") or getpass.getuser(),
    )


def finish(release: Release, tools: Tools) -> None:
    tools.notifier.close()
    word = {
        "succeeded": "[bold green]succeeded[/]",
        "failed": "[bold red]FAILED[/]",
        "rolled back": "[bold red]ROLLED BACK[/]",
    }
    bundle = f", {release.bundle_id}" if release.bundle_id else ""
    stderr.print(f"{release.stack}: {release.kind} {release.version} {word[release.result]} ({release.id}{bundle})")
    for step in release.steps:
        stderr.print(f"  {step.name:<14} {step.status:<8} {escape(step.detail)}", highlight=False)
    raise typer.Exit(0 if release.result == "succeeded" else 1)


def deploy_command(
    stack: Stack,
    version: Annotated[
        str | None, typer.Option("--version", help="release version [default: the short git sha]")
    ] = None,
    target: Targets = None,
    verify_timeout: VerifyTimeout = 300,
    no_restore_point: NoRestorePoint = False,
    kubernetes_host: KubernetesHost = None,
) -> None:
    """Deploy the checkout to a stack: validate, gate, restore point, cleanup, `pulumi up`, verify, record, Slack."""
    from pipelines.deploy.deployer import Plan, deploy
    from pipelines.infra.evaluate import stack_config
    from pipelines.lock import ROOT, lock_sha256
    from tradeops.cli.options import parse_assignments

    settings_of_stack = stack_config(stack)["tradeops:settings"]
    services = parse_assignments(target, "--target") or default_services(settings_of_stack)
    tools = build_tools(
        load_settings(),
        services,
        str(settings_of_stack.get("namespace", "")),
        verify_timeout=verify_timeout,
        restore_point=not no_restore_point,
        kubernetes_host=kubernetes_host,
    )
    sha = git("rev-parse", "HEAD")
    plan = Plan(stack, version or sha[:12], sha, settings_of_stack, lock_sha256=lock_sha256(ROOT))
    release = deploy(plan, tools)
    finish(release, tools)


def rollback_command(
    stack: Stack,
    to: Annotated[
        str | None, typer.Option("--to", help="version to go back to [default: the previous good one]")
    ] = None,
    target: Targets = None,
    verify_timeout: VerifyTimeout = 300,
    kubernetes_host: KubernetesHost = None,
) -> None:
    """Deploy a previous good release (or the named one) again, through the same hooks."""
    from pipelines.deploy.deployer import rollback
    from pipelines.infra.evaluate import stack_config
    from tradeops.cli.options import parse_assignments

    settings = load_settings()
    releases = ReleaseStore(open_object_store(settings.resolved_object_store, settings.s3_endpoint_url))
    target_release = releases.find(stack, to) if to else releases.current(stack)
    known = target_release.config if target_release else stack_config(stack)["tradeops:settings"]
    services = parse_assignments(target, "--target") or default_services(known)
    tools = build_tools(
        settings,
        services,
        str(known.get("namespace", "")),
        verify_timeout=verify_timeout,
        restore_point=True,
        kubernetes_host=kubernetes_host,
    )
    finish(rollback(stack, tools, to=to), tools)


def releases_command(
    stack: Stack, as_json: Annotated[bool, typer.Option("--json", help="print JSON (newest first)")] = False
) -> None:
    """The stack's release history, newest first, with results."""
    from pipelines.deploy.engine import summary_line

    settings = load_settings()
    history = ReleaseStore(open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)).history(stack)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") | {"duration_seconds": r.duration_seconds} for r in history]))
        return
    table = Table(title=f"releases of {stack}")
    for column in ("started", "kind", "version", "result", "gate", "changes", "duration", "by"):
        table.add_column(column)
    for r in history:
        gate = (
            "reused" if r.gate_reused else ("passed" if r.gate_passed else "failed" if r.gate_passed is False else "-")
        )
        result = r.result if r.result == "succeeded" else f"[bold red]{r.result}[/] ({r.failed_step})"
        changes = summary_line(r.changes) if r.changes else "-"
        table.add_row(
            f"{r.started_at:%Y-%m-%d %H:%M}",
            r.kind,
            r.version,
            result,
            gate,
            changes,
            f"{r.duration_seconds:.0f} s",
            r.who,
        )
    Console(emoji=False, width=max(Console(emoji=False).width, 130)).print(
        table
    )  # one line per release, even in a CI log
    if not history:
        stderr.print(f"no releases of {stack} yet")
