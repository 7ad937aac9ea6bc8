"""Traceability: the catalog covers the plan, the plugin enforces IDs, the report is produced."""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tradeops.errors import ConfigError
from tradeops.requirements import build_matrix, load_catalog, parse_junit, write_matrix

ROOT = Path(__file__).resolve().parents[3]
pytest_plugins = ["pytester"]


@pytest.mark.req("TF-1")
def test_tf_1_catalog_has_one_requirement_per_plan_row_and_the_design_card():
    catalog = load_catalog(ROOT / "test_requirements.yaml")
    prefixes = Counter(r.id.split("-")[0] for r in catalog)
    assert {p: prefixes[p] for p in ("SM", "TF", "BT", "DW", "OE", "WS")} == dict.fromkeys(
        ("SM", "TF", "BT", "DW", "OE", "WS"), 5
    )
    assert prefixes["DC"] >= 5
    assert all(r.text and r.source for r in catalog)
    assert all(r.tests for r in catalog if r.status == "implemented")


@pytest.mark.req("TF-1")
def test_tf_1_catalog_errors_name_the_problem(tmp_path):
    path = tmp_path / "reqs.yaml"
    entry = "- {id: AB-1, title: t, text: t, source: s, priority: High, status: planned}\n"
    path.write_text("requirements:\n" + entry + entry)
    with pytest.raises(ConfigError, match="AB-1 is listed twice"):
        load_catalog(path)
    path.write_text("requirements:\n- {id: ab1, title: t, text: t, source: s, priority: High, status: done}\n")
    with pytest.raises(ConfigError, match=r"requirements.0.id: String should match pattern.*status: Input should be"):
        load_catalog(path)
    path.write_text(
        "requirements:\n- {id: AB-1, title: t, text: t, source: s, priority: High, status: planned, tests: [foo]}\n"
    )
    with pytest.raises(ConfigError, match=r"is not 'tests/<path>\.py::test_<name>'"):
        load_catalog(path)


def _run_inner(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=textwrap.dedent(body))
    return pytester.runpytest_subprocess(
        "-p", "tests.plugins.requirements", "-p", "no:cacheprovider", f"--rootdir={pytester.path}", *args
    )


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + ":" + ":".join(sys.path))
    return pytester


UNKNOWN_ID = """
import pytest
@pytest.mark.req("ZZ-9")
def test_zz_9_whatever():
    pass
"""


@pytest.mark.req("TF-2")
def test_tf_2_a_test_citing_an_unknown_id_fails_the_run(inner):
    result = _run_inner(inner, UNKNOWN_ID)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*cites unknown requirement ZZ-9*"])


@pytest.mark.req("TF-2")
def test_tf_2_a_test_whose_name_lacks_the_id_fails_the_run(inner):
    result = _run_inner(
        inner,
        """
        import pytest
        @pytest.mark.req("BT-4")
        def test_thresholds_work():
            pass
    """,
    )
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*cites BT-4 but its name lacks 'bt_4'*"])


@pytest.mark.req("TF-1", "TF-2")
def test_tf_1_tf_2_strict_mode_fails_unlisted_and_unproven_requirements(inner):
    result = _run_inner(
        inner,
        """
        import pytest
        @pytest.mark.req("BT-4")
        def test_bt_4_fails():
            assert False
    """,
        "--requirements-strict",
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "*REQUIREMENT PROBLEM: BT-4: test_inner.py::test_bt_4_fails cites it but test_requirements.yaml"
            " does not list it*",
            "*REQUIREMENT PROBLEM: BT-4: implemented, but no test citing it passed*",
        ]
    )


@pytest.mark.req("TF-1")
def test_tf_1_matrix_is_written_from_junit_results(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(
        "<testsuites><testsuite>"
        '<testcase classname="tests.apps.gate.test_gate" name="test_bt_4_a[x]"/>'
        '<testcase classname="tests.apps.gate.test_gate" name="test_bt_4_a[y]"><failure/></testcase>'
        '<testcase classname="tests.apps.gate.test_gate" name="test_dc_2_b"><skipped/></testcase>'
        '<testcase classname="tests.apps.gate.test_gate" name="test_dc_7_c"/>'
        "</testsuite></testsuites>"
    )
    results = parse_junit(junit)
    assert results == {
        "tests/apps/gate/test_gate.py::test_bt_4_a": "failed",
        "tests/apps/gate/test_gate.py::test_dc_2_b": "skipped",
        "tests/apps/gate/test_gate.py::test_dc_7_c": "passed",
    }
    catalog = tmp_path / "reqs.yaml"
    catalog.write_text(
        "requirements:\n"
        "- {id: BT-4, title: a, text: a, source: s, priority: High, status: implemented,"
        " tests: [tests/apps/gate/test_gate.py::test_bt_4_a]}\n"
        "- {id: DC-2, title: b, text: b, source: s, priority: High, status: implemented,"
        " tests: [tests/apps/gate/test_gate.py::test_dc_2_b]}\n"
        "- {id: DC-7, title: c, text: c, source: s, priority: Low, status: implemented,"
        " tests: [tests/apps/gate/test_gate.py::test_dc_7_c]}\n"
        "- {id: SM-1, title: d, text: d, source: s, priority: Low, status: planned}\n"
    )
    rows = build_matrix(load_catalog(catalog), results)
    assert [r.verdict for r in rows] == ["FAILING", "UNTESTED", "proven", "planned"]
    markdown, page = write_matrix(rows, tmp_path / "reports")
    assert "| DC-7 | c | Low | implemented | proven |" in markdown.read_text()
    assert "<td>FAILING</td>" in page.read_text()
    with pytest.raises(ConfigError, match="cannot read JUnit XML"):
        parse_junit(tmp_path / "missing.xml")


@pytest.mark.req("TF-1")
def test_tf_1_report_command_fails_when_a_requirement_is_unproven(tmp_path, monkeypatch, capsys):
    from tests.apps.cli.test_cli import cli

    junit = tmp_path / "junit.xml"
    junit.write_text("<testsuites><testsuite/></testsuites>")
    code, _, err = cli(
        monkeypatch,
        capsys,
        "requirements",
        "report",
        "--junit",
        str(junit),
        "--catalog",
        str(ROOT / "test_requirements.yaml"),
        "--out",
        str(tmp_path / "r"),
    )
    unproven = " ".join(err.split()).split("unproven: ", 1)[1]
    assert code == 1 and "TF-1," in unproven and "BT-4," in unproven
    assert (tmp_path / "r" / "requirements.html").exists()


XDIST_BODY = """
import pytest
@pytest.mark.req("BT-4")
def test_bt_4_passes():
    pass
@pytest.mark.req("BT-5")
def test_bt_5_fails():
    assert False
"""


@pytest.mark.req("DC-63")
def test_dc_63_strict_mode_judges_on_the_controller_under_xdist(inner):
    """Under `-n 2` the workers collect and run; the controller still knows who cites what and who passed."""
    result = _run_inner(inner, XDIST_BODY, "--requirements-strict", "-n", "2")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*2 workers*"], consecutive=False)
    result.stdout.fnmatch_lines(
        [
            "*REQUIREMENT PROBLEM: BT-4: test_inner.py::test_bt_4_passes cites it but test_requirements.yaml"
            " does not list it*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*REQUIREMENT PROBLEM: BT-5: test_inner.py::test_bt_5_fails cites it but test_requirements.yaml"
            " does not list it*",
            "*REQUIREMENT PROBLEM: BT-5: implemented, but no test citing it passed*",
        ],
        consecutive=False,
    )
    assert "BT-4: implemented, but no test citing it passed" not in result.stdout.str()  # its one citing test passed


@pytest.mark.req("DC-63")
def test_dc_63_a_wrong_citation_fails_the_run_under_xdist(inner):
    result = _run_inner(inner, UNKNOWN_ID, "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "cites unknown requirement ZZ-9" in result.stdout.str() + result.stderr.str()
