"""`comment`: one pull-request comment, edited in place, with the preview summaries, the gate checks and the reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradeops.vcs.github import MAX_COMMENT, fit

MARKER = "<!-- tradeops-pipeline -->"
ERROR_CHARS = 1_000  # of each preview error: the gate checks below must still fit


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.4g}" if isinstance(value, float) else str(value)


def _gate_section(verdict: dict[str, Any]) -> list[str]:
    word = "passed" if verdict["passed"] else "FAILED" if verdict["exit_code"] == 1 else "UNDECIDED"
    lines = [f"#### Gate `{verdict['stack']}`: **{word}** (exit {verdict['exit_code']})", ""]
    if verdict.get("error"):
        return [*lines, f"> {verdict['error']}", ""]
    lines += ["| check | group | value | limit | result | detail |", "|---|---|---|---|---|---|"]
    for check in verdict["checks"]:
        result = "pass" if check["passed"] else "**FAIL**"
        value, limit = _number(check["value"]), _number(check["limit"])
        detail = str(check.get("detail") or "").replace("|", "\\|")
        lines.append(f"| {check['name']} | {check['group']} | {value} | {limit} | {result} | {detail} |")
    return [*lines, ""]


def _preview_section(previews: list[dict[str, Any]]) -> list[str]:
    lines = ["| stack | preview | create | update | replace | delete | unchanged |", "|---|---|---|---|---|---|---|"]
    for p in previews:
        c = p["changes"]
        counts = " | ".join(str(c.get(op, 0)) for op in ("create", "update", "replace", "delete", "same"))
        lines.append(f"| {p['stack']} | {'**failed**' if p['error'] else p['summary']} | {counts} |")
    errors = [f"> `{p['stack']}`: {p['error'][:ERROR_CHARS]}" for p in previews if p["error"]]
    return [*lines, "", *errors]


def bundles_section(running: dict[str, tuple[str, str | None]]) -> list[str]:
    """What each stack runs now, by bundle id, and how to approve staging's for prod."""
    lines = ["#### Bundles running now", "", "| stack | version | bundle |", "|---|---|---|"]
    lines += [f"| {stack} | {version} | `{bundle or 'none'}` |" for stack, (version, bundle) in sorted(running.items())]
    staging = running.get("staging", ("", None))[1]
    if staging and staging != running.get("prod", ("", None))[1]:
        lines += [
            "",
            f"Staging's bundle goes to prod once soaked and approved: approve with `/trading approve {staging}`.",
        ]
    return [*lines, ""]


def comment_body(
    folder: Path,
    *,
    run_url: str | None,
    sha: str,
    limit: int = MAX_COMMENT,
    running: dict[str, tuple[str, str | None]] | None = None,
) -> str:
    """The comment from the stage outputs in `folder` (gate-*.json, preview-*.json and the report files)."""
    verdicts = [json.loads(p.read_text()) for p in sorted(folder.glob("gate-*.json"))]
    previews = [json.loads(p.read_text()) for p in sorted(folder.glob("preview-*.json"))]
    blocked = [v["stack"] for v in verdicts if not v["passed"]] + [p["stack"] for p in previews if p["error"]]
    state = f"**blocked**: {', '.join(sorted(set(blocked)))}" if blocked else "ready to merge"
    lines = [f"### tradeops pipeline for `{sha[:12]}`: {state}", "", "#### Preview", ""]
    lines += _preview_section(previews) if previews else ["No stack is affected by this change.", ""]
    for verdict in verdicts:
        lines += _gate_section(verdict)
    if not verdicts:
        lines += ["No stack config changed: no gate run.", ""]
    if running:
        lines += bundles_section(running)
    reports = sorted(p.name for p in folder.iterdir() if p.suffix in (".html", ".json", ".xml", ".md"))
    where = f"[the run's artifacts]({run_url})" if run_url else "the `reports/` folder"
    lines += ["#### Reports", "", f"In {where}: " + ", ".join(f"`{name}`" for name in reports)]
    return fit("\n".join(lines) + "\n", limit - len(MARKER) - 1)
