"""The pipeline commands (`tradeops infra render`, `tradeops system-map`, ...), added to the `tradeops`
CLI through the `tradeops.commands` entry point (`register`), so `tradeops` never imports infra/ or pipelines/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tradeops.cli.panels import DEPLOY, DEVELOP

if TYPE_CHECKING:
    from tradeops.cli.lazy import CommandTable

infra_app = typer.Typer(help="The Pulumi program, evaluated offline.", no_args_is_help=True)
stderr = Console(emoji=False, stderr=True, soft_wrap=True)


@infra_app.command("render")
def render(
    stack: Annotated[
        str, typer.Option("--stack", help="stack name (infra/stacks/Pulumi.<stack>.yaml); 'all' for every stack")
    ],
    out: Annotated[Path, typer.Option("--out", help="folder for the manifests (one sub-folder per stack with 'all')")],
) -> None:
    """Write every Kubernetes manifest the program declares for a stack, without a cluster or the pulumi CLI."""
    from pipelines.infra.evaluate import evaluate, stack_names
    from pipelines.infra.render import write

    stacks = stack_names() if stack == "all" else [stack]
    for name in stacks:
        target = out / name if stack == "all" else out
        try:
            written = write(evaluate(name), target)
        except (FileNotFoundError, FileExistsError) as error:
            stderr.print(f"error: {error}")
            raise typer.Exit(2) from None
        stderr.print(f"{name}: wrote {len(written)} manifests to {target}")


def system_map(
    check: Annotated[
        bool, typer.Option("--check", help="fail if system_map.yaml or docs/diagrams.md are stale")
    ] = False,
    deployed: Annotated[
        Path | None, typer.Option("--deployed", help="`pulumi stack export` JSON to compare with")
    ] = None,
    stack: Annotated[str, typer.Option("--stack", help="the stack the export belongs to")] = "dev",
) -> None:
    """(Re)generate system_map.yaml and docs/diagrams.md from the program, check them, or diff a deployment."""
    from pipelines.infra import deployed as deployed_state
    from pipelines.infra import system_map as generator

    if deployed is not None:
        differences = deployed_state.compare(stack, json.loads(deployed.read_text()))
        for line in differences:
            typer.echo(line)
        stderr.print(f"{len(differences)} difference(s) between declared and deployed ({stack})")
        raise typer.Exit(1 if differences else 0)
    if check:
        stale = generator.drift()
        if stale:
            stderr.print(f"stale: {', '.join(stale)}; run `tradeops system-map` and commit the result")
            raise typer.Exit(1)
        stderr.print("system_map.yaml and docs/diagrams.md match the program")
        return
    for path in generator.write():
        stderr.print(f"wrote {path}")


def register(commands: CommandTable) -> None:
    """Declare the pipeline commands in the `tradeops` CLI (the `tradeops.commands` entry point); each is
    imported only when it runs."""
    commands.add(
        "deploy", "pipelines.deploy.cli:deploy_command", "Deploy the checkout to a stack, through every hook.", DEPLOY
    )
    commands.add("rollback", "pipelines.deploy.cli:rollback_command", "Deploy a previous good release again.", DEPLOY)
    commands.add(
        "promote", "pipelines.deploy.promote_cli:promote_command", "Promote the verified bundle downstream.", DEPLOY
    )
    commands.add(
        "releases", "pipelines.deploy.promote_cli:releases_app", "Release history; a bundle or release by id.", DEPLOY
    )
    commands.add("bundles", "pipelines.deploy.promote_cli:bundles_app", "Approve, re-verify and check bundles.", DEPLOY)
    commands.add(
        "config", "pipelines.config_cli:app", "What a local run or a stack deploy needs; `.env.example`.", DEPLOY
    )
    commands.add("pipeline", "pipelines.stages.cli:app", "CI/CD stages, run the same locally and in CI.", DEVELOP)
    commands.add("infra", "pipelines.cli:infra_app", "The Pulumi program, evaluated offline.", DEVELOP)
    commands.add(
        "system-map", "pipelines.cli:system_map", "(Re)generate or check system_map.yaml and docs/diagrams.md.", DEVELOP
    )
