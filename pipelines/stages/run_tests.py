"""`test`: the README's test command (`make test`), then a summary of the reports it wrote under reports/."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

from pipelines.infra.evaluate import ROOT

COMMAND = ("make", "test")
REPORTS = {
    "junit": "junit.xml",
    "coverage": "coverage.xml",
    "coverage_html": "coverage/index.html",
    "requirements": "requirements.md",
    "requirements_html": "requirements.html",
}


def junit_counts(path: Path) -> dict[str, int]:
    """Tests, failures, errors and skips over every suite of a JUnit file."""
    root = ElementTree.parse(path).getroot()  # noqa: S314 - our own test run's file
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    return {key: sum(int(suite.get(key, 0)) for suite in suites) for key in ("tests", "failures", "errors", "skipped")}


def line_rate(path: Path) -> float:
    return round(float(ElementTree.parse(path).getroot().get("line-rate", 0)) * 100, 2)  # noqa: S314


def run_tests(command: tuple[str, ...] = COMMAND, cwd: Path = ROOT) -> dict[str, Any]:
    """Run the command; return its exit code, the report files it left and their headline numbers."""
    exit_code = subprocess.run(list(command), cwd=cwd, check=False).returncode  # noqa: S603 - the README command
    reports = cwd / "reports"
    found = {name: str(reports / rel) for name, rel in REPORTS.items() if (reports / rel).exists()}
    summary: dict[str, Any] = {"command": " ".join(command), "exit_code": exit_code, "reports": found}
    if "junit" in found:
        summary["tests"] = junit_counts(Path(found["junit"]))
    if "coverage" in found:
        summary["coverage_pct"] = line_rate(Path(found["coverage"]))
    summary["missing"] = sorted(set(REPORTS) - set(found))
    return summary
