"""Pytest plugin: every requirement test cites known IDs, and every implemented requirement is proven.

A test cites requirements with `@pytest.mark.req("BT-4", ...)` and carries each ID in its name
(`BT-4` -> `test_bt_4_...`). With `--requirements-strict` (the README test command sets it) the
session also fails when `test_requirements.yaml` and the markers disagree, or when an implemented
requirement has no passing test.

Under pytest-xdist (`-n`) the workers collect and run the tests while the controller reports and judges: each
worker hands its citations and citation errors to the controller (`workeroutput`, read in `pytest_testnodedown`);
test outcomes reach the controller as the workers' reports.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tradeops.requirements import load_catalog, name_token
from tradeops.requirements.collect import catalog_key

CATALOG = Path(__file__).resolve().parents[2] / "test_requirements.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("requirements")
    group.addoption(
        "--requirements-strict",
        action="store_true",
        help="fail unless the catalog matches the markers and every implemented requirement passes",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "req(*ids): the requirement IDs this test proves")
    config.pluginmanager.register(RequirementsPlugin(config), "tradeops-requirements")


class RequirementsPlugin:
    """Collects citations and outcomes; judges them at the end of a strict run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.catalog = {r.id: r for r in load_catalog(CATALOG)}
        self.cited: dict[str, set[str]] = defaultdict(set)  # requirement -> tests
        self.passed: set[str] = set()
        self.failed: set[str] = set()
        self.problems: list[str] = []
        self.citation_errors: set[str] = set()  # reported by xdist workers; the controller fails the run on them
        self.is_worker = hasattr(config, "workerinput")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        errors = []
        for item in items:
            ids = [i for marker in item.iter_markers("req") for i in marker.args]
            for requirement_id in ids:
                if requirement_id not in self.catalog:
                    errors.append(f"{item.nodeid}: cites unknown requirement {requirement_id}")
                elif name_token(requirement_id) not in item.name.lower():
                    errors.append(
                        f"{item.nodeid}: cites {requirement_id} but its name lacks '{name_token(requirement_id)}'"
                    )
                self.cited[requirement_id].add(catalog_key(item))
        if self.is_worker:  # the controller judges; a worker raising here would only crash itself
            cited = {requirement_id: sorted(tests) for requirement_id, tests in self.cited.items()}
            self.config.workeroutput["requirements"] = {"cited": cited, "errors": errors}  # type: ignore[attr-defined]
            if errors:
                self.config.hook.pytest_deselected(items=items[:])
                items[:] = []
            return
        if errors:
            raise pytest.UsageError(citation_message(errors))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """Take over what an xdist worker collected (every worker collects the whole suite)."""
        handed = getattr(node, "workeroutput", {}).get("requirements")
        if not handed:
            return
        for requirement_id, tests in handed["cited"].items():
            self.cited[requirement_id].update(tests)
        self.citation_errors.update(handed["errors"])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        key = f"{report.nodeid.split('::', 1)[0]}::{report.nodeid.split('::')[-1].split('[', 1)[0]}"
        if report.failed:
            self.failed.add(key)
        elif report.when == "call" and report.passed:
            self.passed.add(key)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.citation_errors:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if self.is_worker or not self.config.getoption("requirements_strict"):
            return
        for requirement in self.catalog.values():
            listed, cited = set(requirement.tests), self.cited.get(requirement.id, set())
            for test in sorted(listed - cited):
                self.problems.append(f"{requirement.id}: test_requirements.yaml lists {test}, which does not cite it")
            for test in sorted(cited - listed):
                self.problems.append(f"{requirement.id}: {test} cites it but test_requirements.yaml does not list it")
            if requirement.status == "implemented" and not (cited & self.passed) - self.failed:
                self.problems.append(f"{requirement.id}: implemented, but no test citing it passed")
        if self.problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.citation_errors:
            terminalreporter.write_line("ERROR: " + citation_message(sorted(self.citation_errors)), red=True)
            return
        if not self.config.getoption("requirements_strict"):
            return
        implemented = [r for r in self.catalog.values() if r.status == "implemented"]
        terminalreporter.section("requirements")
        terminalreporter.write_line(f"{len(implemented)} implemented, {len(self.catalog) - len(implemented)} planned")
        for problem in self.problems:
            terminalreporter.write_line(f"REQUIREMENT PROBLEM: {problem}", red=True)


def citation_message(errors: list[str]) -> str:
    return "requirement citations are wrong:\n  " + "\n  ".join(errors)
