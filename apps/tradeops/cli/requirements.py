"""`tradeops requirements report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tradeops.requirements import build_matrix, load_catalog, parse_junit, write_matrix

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
    Console(stderr=True, soft_wrap=True).print(
        f"{proven} proven, {sum(r.verdict == 'planned' for r in rows)} planned, "
        f"{len(bad)} unproven{': ' + ', '.join(bad) if bad else ''}; wrote {markdown} and {page}"
    )
    if bad:
        raise typer.Exit(1)
