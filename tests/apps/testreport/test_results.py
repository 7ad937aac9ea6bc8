"""TF-4: the results of a real pytest run, from its JUnit XML, as Markdown (for a PR) and HTML."""

from __future__ import annotations

import pytest

from tests.apps.testreport.project import junit_run
from tradeops.errors import ConfigError
from tradeops.requirements import load_catalog
from tradeops.requirements.junit import Case, read_cases
from tradeops.testreport import results_markdown, write_results


@pytest.fixture(scope="module")
def inner_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("inner")
    return junit_run(root), load_catalog(root / "test_requirements.yaml")


@pytest.mark.req("TF-4")
def test_tf_4_cases_carry_outcome_time_and_message(inner_run):
    junit, _ = inner_run
    cases = {c.name: c for c in read_cases(junit)}
    assert {n: c.outcome for n, c in cases.items()} == {
        "test_bt_1_passes_slowly": "passed",
        "test_bt_2_half_of_it_fails[1]": "passed",
        "test_bt_2_half_of_it_fails[2]": "failed",
        "test_skipped": "skipped",
        "test_errors": "error",
    }
    assert cases["test_bt_1_passes_slowly"].seconds >= 0.3
    assert "two is not one" in cases["test_bt_2_half_of_it_fails[2]"].message
    assert "fixture broke" in cases["test_errors"].message
    assert "no cluster here" in cases["test_skipped"].message
    assert cases["test_skipped"].function == "tests/test_inner.py::test_skipped"


@pytest.mark.req("TF-4")
def test_tf_4_markdown_gives_totals_failures_slowest_and_requirements(inner_run):
    junit, catalog = inner_run
    markdown = results_markdown(read_cases(junit), catalog)
    assert markdown.startswith("## Tests: FAILED\n")
    assert "5 tests: **2 passed**, 1 failed, 1 errors, 1 skipped" in markdown
    failures = markdown.split("### Failures", 1)[1].split("### Slowest", 1)[0]
    assert "`tests/test_inner.py::test_bt_2_half_of_it_fails[2]` (failed)" in failures
    assert "two is not one" in failures and "fixture broke" in failures
    slowest = markdown.split("### Slowest tests", 1)[1].split("###", 1)[0]
    first_row = next(line for line in slowest.splitlines() if line.startswith("| ") and "`" in line)
    assert "test_bt_1_passes_slowly" in first_row
    assert "1 proven, 1 failing, 0 untested, 1 planned." in markdown
    assert "| BT-1 | Passing | proven | 1/1 |" in markdown
    assert "| BT-2 | Failing | FAILING | 0/1 |" in markdown
    assert "| BT-3 | Later | planned | - |" in markdown


@pytest.mark.req("TF-4")
def test_tf_4_cli_writes_markdown_and_html_to_reports(inner_run, tmp_path, monkeypatch, capsys):
    from tests.apps.cli.test_cli import cli
    from tests.apps.testreport.test_coverage import measured_project

    junit, _ = inner_run
    root, coverage_xml = measured_project(tmp_path / "project")
    code, _, err = cli(
        monkeypatch,
        capsys,
        "tests",
        "report",
        "--junit",
        str(junit),
        "--coverage",
        str(coverage_xml),
        "--catalog",
        str(junit.parent / "test_requirements.yaml"),
        "--root",
        str(root),
        "--out",
        str(tmp_path / "reports"),
    )
    assert code == 0 and "5 tests, 2 failed" in " ".join(err.split())
    markdown, page = (tmp_path / "reports/tests.md").read_text(), (tmp_path / "reports/tests.html").read_text()
    assert markdown == results_markdown(read_cases(junit), load_catalog(junit.parent / "test_requirements.yaml"))
    assert page.startswith("<!doctype html>") and "<td>FAILING</td>" in page and "two is not one" in page
    assert page.index("test_errors") < page.index("test_bt_1_passes_slowly")  # failures first
    assert (tmp_path / "reports/coverage-summary.html").exists()


@pytest.mark.req("TF-4")
def test_tf_4_an_unreadable_junit_file_is_a_clear_error(tmp_path):
    (tmp_path / "junit.xml").write_text("<testsuites><testsuite>")
    with pytest.raises(ConfigError, match=r"junit.xml: cannot read JUnit XML"):
        read_cases(tmp_path / "junit.xml")
    written = write_results([], [], tmp_path / "empty")
    assert "0 tests: **0 passed**" in written[0].read_text()


@pytest.mark.req("TF-4")
def test_tf_4_a_long_failure_list_is_capped_to_fit_a_pr_comment():
    cases = [Case("tests/test_x.py", f"test_{i}", "failed", 0.1, "boom\n" * 40) for i in range(30)]
    markdown = results_markdown(cases, [])
    assert markdown.count("(failed)") == 25 and "... and 5 more (all of them in tests.html)" in markdown
    assert markdown.count("boom") == 25 * 12  # each message cut to its first lines
