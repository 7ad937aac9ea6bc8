"""The test results of one run, from its JUnit XML: totals, failures, slowest tests, outcomes per requirement."""

from __future__ import annotations

import html
from pathlib import Path

from tradeops.requirements.catalog import Requirement
from tradeops.requirements.junit import Case, worst_outcomes
from tradeops.requirements.report import build_matrix

OUTCOMES = ("passed", "failed", "error", "skipped")
MESSAGE_LINES = 12
MAX_FAILURES = 25  # a pull-request comment holds 65,536 characters; tests.html lists them all


def _short(message: str) -> str:
    lines = message.splitlines()
    return "\n".join(lines[:MESSAGE_LINES] + (["..."] if len(lines) > MESSAGE_LINES else []))


def results_markdown(cases: list[Case], catalog: list[Requirement], slowest: int = 10) -> str:
    """Return the run as Markdown for a pull-request comment or a GitHub step summary."""
    counts = {o: sum(c.outcome == o for c in cases) for o in OUTCOMES}
    seconds = sum(c.seconds for c in cases)
    bad = counts["failed"] + counts["error"]
    lines = [
        f"## Tests: {'FAILED' if bad else 'passed'}",
        "",
        f"{len(cases)} tests: **{counts['passed']} passed**, {counts['failed']} failed, {counts['error']} errors,"
        f" {counts['skipped']} skipped in {seconds:.1f} s (sum of test times).",
        "",
    ]
    if bad:
        lines += ["### Failures", ""]
        failures = [c for c in cases if c.outcome in ("failed", "error")]
        for case in failures[:MAX_FAILURES]:
            lines += [
                f"- `{case.module}::{case.name}` ({case.outcome})",
                "",
                "  ```",
                *[f"  {line}" for line in _short(case.message).splitlines()],
                "  ```",
                "",
            ]
        if len(failures) > MAX_FAILURES:
            lines += [f"... and {len(failures) - MAX_FAILURES} more (all of them in tests.html)", ""]
    lines += ["### Slowest tests", "", "| seconds | test |", "|---:|---|"]
    lines += [
        f"| {c.seconds:.2f} | `{c.module}::{c.name}` |" for c in sorted(cases, key=lambda c: -c.seconds)[:slowest]
    ]
    rows = build_matrix(catalog, worst_outcomes(cases))
    verdicts = {v: sum(r.verdict == v for r in rows) for v in ("proven", "FAILING", "UNTESTED", "planned")}
    lines += [
        "",
        "### Requirements",
        "",
        f"{verdicts['proven']} proven, {verdicts['FAILING']} failing, {verdicts['UNTESTED']} untested,"
        f" {verdicts['planned']} planned.",
        "",
        "<details><summary>outcome per requirement</summary>",
        "",
        "| ID | requirement | verdict | tests passed |",
        "|---|---|---|---|",
    ]
    for row in rows:
        passed = sum(o == "passed" for o in row.outcomes.values())
        tested = f"{passed}/{len(row.outcomes)}" if row.outcomes else "-"
        lines.append(f"| {row.requirement.id} | {row.requirement.title} | {row.verdict} | {tested} |")
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _html(cases: list[Case], catalog: list[Requirement]) -> str:
    counts = {o: sum(c.outcome == o for c in cases) for o in OUTCOMES}
    rows = "".join(
        f"<tr class='{c.outcome}'><td>{html.escape(c.module)}::{html.escape(c.name)}</td><td>{c.outcome}</td>"
        f"<td class='n'>{c.seconds:.2f}</td><td><pre>{html.escape(_short(c.message))}</pre></td></tr>"
        for c in sorted(cases, key=lambda c: (c.outcome == "passed", c.outcome == "skipped", -c.seconds))
    )
    requirements = "".join(
        f"<tr class='{r.verdict.lower()}'><td>{r.requirement.id}</td><td>{html.escape(r.requirement.title)}</td>"
        f"<td>{r.verdict}</td><td>{sum(o == 'passed' for o in r.outcomes.values())}/{len(r.outcomes)}</td></tr>"
        for r in build_matrix(catalog, worst_outcomes(cases))
    )
    summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
    return (
        "<!doctype html><meta charset='utf-8'><title>Test results</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem}td,th{border-bottom:1px solid #ddd;padding:.3rem;"
        "vertical-align:top;font-size:.85rem;text-align:left}.n{text-align:right}pre{margin:0;white-space:pre-wrap}"
        ".failed td:nth-child(2),.error td:nth-child(2),.failing td:nth-child(3),.untested td:nth-child(3)"
        "{color:#b42318;font-weight:600}.passed td:nth-child(2),.proven td:nth-child(3){color:#177245}</style>"
        f"<h1>Test results</h1><p>{len(cases)} tests: {summary}; {sum(c.seconds for c in cases):.1f} s.</p>"
        "<h2>Requirements</h2><table><tr><th>ID</th><th>requirement</th><th>verdict</th><th>tests passed</th></tr>"
        f"{requirements}</table><h2>Tests</h2><p>Failures first, then the slowest.</p><table><tr><th>test</th>"
        f"<th>outcome</th><th>seconds</th><th>message</th></tr>{rows}</table>"
    )


def write_results(cases: list[Case], catalog: list[Requirement], out_dir: Path) -> tuple[Path, Path]:
    """Write `tests.md` and `tests.html` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, page = out_dir / "tests.md", out_dir / "tests.html"
    markdown.write_text(results_markdown(cases, catalog))
    page.write_text(_html(cases, catalog))
    return markdown, page
