"""`tradeops config check` and `tradeops config env-example`: environment management."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(help="What a local run or a stack deploy needs; `.env.example`.", no_args_is_help=True)


@app.command("check")
def check(
    stack: Annotated[str | None, typer.Option("--stack", help="check what deploying this stack needs")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List every setting, secret and tool a local run (or a stack deploy) reads; exit 1 when one is missing."""
    from pipelines.environment import as_rows, local_needs, stack_needs

    needs = stack_needs(stack) if stack else local_needs()
    if as_json:
        typer.echo(json.dumps(as_rows(needs)))
    else:
        table = Table(title=f"what {'stack ' + stack if stack else 'a local run'} needs")
        for column in ("where", "name", "state", "note"):
            table.add_column(column)
        colour = {"missing": "bold red", "invalid": "bold red", "set": "green"}
        for need in needs:
            state = f"[{colour.get(need.state, 'dim')}]{need.state}[/]"
            table.add_row(need.where, escape(need.name), state, escape(need.note))
        Console(emoji=False).print(table)
    blocking = [n.name for n in needs if n.blocking]
    if blocking:
        Console(emoji=False, stderr=True, soft_wrap=True).print(
            f"missing or invalid: {', '.join(blocking)}", highlight=False
        )
    raise typer.Exit(1 if blocking else 0)


@app.command("env-example")
def env_example(
    check: Annotated[bool, typer.Option("--check", help="fail if .env.example is stale")] = False,
) -> None:
    """Write (or check) `.env.example`: every TRADEOPS_* variable from the settings model, with its default."""
    from pipelines.environment import ENV_EXAMPLE, env_example_stale, write_env_example

    err = Console(emoji=False, stderr=True, soft_wrap=True)
    if check:
        if env_example_stale():
            err.print("stale: .env.example; run `tradeops config env-example` and commit the result")
            raise typer.Exit(1)
        err.print(".env.example matches the settings model")
        return
    err.print(f"wrote {write_env_example(ENV_EXAMPLE)}")
