"""`tradeops requirements report|scaffold|sync`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradeops.cli.options import plain_console
from tradeops.requirements import build_matrix, load_catalog, parse_junit, write_matrix
from tradeops.requirements.scaffold import find, function_name, skeleton, write_skeleton
from tradeops.requirements.sync import collect_citations, drift, rewrite

app = typer.Typer(help="Requirements traceability.", no_args_is_help=True)


@app.command("report")
def report(
    junit: Annotated[Path, typer.Option("--junit", help="JUnit XML of a test run")] = Path("reports/junit.xml"),
    catalog: Annotated[Path, typer.Option("--catalog", help="requirements catalog")] = Path("test_requirements.yaml"),
    out: Annotated[Path, typer.Option("--out", help="folder for requirements.md and .html")] = Path("reports"),
) -> None:
    """Write the traceability matrix (requirement -> tests -> last result); exit 1 if any is unproven."""
    rows = build_matrix(load_catalog(catalog), parse_junit(junit))
    markdown, page = write_matrix(rows, out)
    bad = [r.requirement.id for r in rows if r.verdict in ("FAILING", "UNTESTED")]
    proven = sum(r.verdict == "proven" for r in rows)
    plain_console(stderr=True).print(
        f"{proven} proven, {sum(r.verdict == 'planned' for r in rows)} planned, "
        f"{len(bad)} unproven{': ' + ', '.join(bad) if bad else ''}; wrote {markdown} and {page}"
    )
    if bad:
        raise typer.Exit(1)


@app.command("scaffold")
def scaffold(
    requirement_id: Annotated[str, typer.Argument(metavar="ID", help="requirement ID, e.g. BT-4")],
    out: Annotated[
        Path | None, typer.Option("--out", help="new test file (never overwritten); stdout if unset")
    ] = None,
    catalog: Annotated[Path, typer.Option("--catalog", help="requirements catalog")] = Path("test_requirements.yaml"),
) -> None:
    """Write a failing test skeleton that cites a requirement; replace its body with a real proof."""
    requirement = find(load_catalog(catalog), requirement_id)
    if out is None:
        typer.echo(skeleton(requirement), nl=False)
        return
    write_skeleton(requirement, out)
    plain_console(stderr=True).print(f"wrote {out}: {function_name(requirement)} fails until it proves it")


@app.command("sync")
def sync(
    check: Annotated[bool, typer.Option("--check", help="fail if the catalog's tests: lists are stale")] = False,
    catalog: Annotated[Path, typer.Option("--catalog", help="requirements catalog")] = Path("test_requirements.yaml"),
    root: Annotated[Path, typer.Option("--root", help="project root holding tests/")] = Path("."),
) -> None:
    """Rewrite every requirement's tests: list from the `req` markers (collects the tests, runs none)."""
    cited = collect_citations(root)
    differences = drift(catalog, cited)
    stderr = plain_console(stderr=True)
    if check:
        for line in differences:
            typer.echo(line)
        stderr.print(f"{len(differences)} difference(s) between {catalog} and the markers")
        raise typer.Exit(1 if differences else 0)
    rewrite(catalog, cited)
    stderr.print(f"{catalog}: {len(differences)} change(s) written")
