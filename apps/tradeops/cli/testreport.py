"""`tradeops tests report`: test results and a coverage summary of a run, for people and pull requests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradeops.cli.options import plain_console
from tradeops.requirements import load_catalog
from tradeops.requirements.junit import read_cases
from tradeops.testreport import read_coverage, write_coverage_summary, write_results

app = typer.Typer(help="Reports of a test run.", no_args_is_help=True)


@app.command("report")
def report(
    junit: Annotated[Path, typer.Option("--junit", help="JUnit XML of a test run")] = Path("reports/junit.xml"),
    coverage: Annotated[Path, typer.Option("--coverage", help="coverage.xml of the same run")] = Path(
        "reports/coverage.xml"
    ),
    catalog: Annotated[Path, typer.Option("--catalog", help="requirements catalog")] = Path("test_requirements.yaml"),
    root: Annotated[Path, typer.Option("--root", help="project root the measured files live under")] = Path("."),
    out: Annotated[Path, typer.Option("--out", help="folder for tests.{md,html}, coverage-summary.{md,html}")] = Path(
        "reports"
    ),
) -> None:
    """Write tests.{md,html} (totals, failures, slowest, requirements) and coverage-summary.{md,html}."""
    requirements = load_catalog(catalog)
    cases = read_cases(junit)
    written = [
        *write_results(cases, requirements, out),
        *write_coverage_summary(read_coverage(coverage, root), requirements, out),
    ]
    failed = sum(c.outcome in ("failed", "error") for c in cases)
    plain_console(stderr=True).print(f"{len(cases)} tests, {failed} failed; wrote {', '.join(str(p) for p in written)}")
