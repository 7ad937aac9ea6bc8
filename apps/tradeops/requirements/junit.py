"""Read a JUnit XML run (as pytest's --junitxml writes it): every case, and the worst outcome per test."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tradeops.errors import ConfigError


@dataclass(frozen=True)
class Case:
    """One test case (one parametrisation) and how it ended."""

    module: str  # tests/x/test_y.py
    name: str  # test_name[param]
    outcome: str  # passed | failed | error | skipped
    seconds: float
    message: str  # the failure, error or skip reason; empty when passed

    @property
    def function(self) -> str:
        """The catalog's name of the test: `tests/x.py::test_name` (parametrisations merged)."""
        return f"{self.module}::{self.name.split('[', 1)[0]}"


def read_cases(path: Path) -> list[Case]:
    """Read every test case of a JUnit XML file (as pytest's --junitxml writes it)."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own file
    except (OSError, ET.ParseError) as error:
        raise ConfigError(f"{path}: cannot read JUnit XML: {error}") from error
    cases = []
    for case in root.iter("testcase"):
        outcome, message = "passed", ""
        for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            node = case.find(tag)
            if node is not None:
                outcome = name
                message = (node.get("message") or "").strip() or (node.text or "").strip()
                break
        cases.append(
            Case(
                module=case.get("classname", "").replace(".", "/") + ".py",
                name=case.get("name", ""),
                outcome=outcome,
                seconds=float(case.get("time") or 0),
                message=message,
            )
        )
    return cases


def worst_outcomes(cases: list[Case]) -> dict[str, str]:
    """Return `tests/x.py::test_name` -> worst outcome over its cases: passed, skipped or failed (errors count)."""
    rank = {"passed": 0, "skipped": 1, "failed": 2}
    worst: dict[str, str] = {}
    for case in cases:
        outcome = "failed" if case.outcome == "error" else case.outcome
        if rank[outcome] >= rank[worst.get(case.function, "passed")]:
            worst[case.function] = outcome
    return worst


def parse_junit(path: Path) -> dict[str, str]:
    """Return `tests/x.py::test_name` -> worst outcome over its cases (parametrisations merged)."""
    return worst_outcomes(read_cases(path))
