"""TF-3: a coverage summary per package and per requirement area, from a coverage.xml real coverage wrote."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.apps.testreport.project import run, write
from tradeops.errors import ConfigError
from tradeops.requirements import load_catalog
from tradeops.testreport import read_coverage, write_coverage_summary
from tradeops.testreport.coverage import by_area, by_package

SOURCES = {
    "pyproject.toml": '[tool.coverage.run]\nsource = ["apps/tradeops", "pipelines"]\n',
    "apps/tradeops/__init__.py": "",
    "apps/tradeops/gate/__init__.py": "",
    "apps/tradeops/gate/checks.py": """
        def judge(value):
            if value > 3:
                return "pass"
            return "fail"
    """,
    "apps/tradeops/watch.py": """
        def poll():
            return 1
    """,
    "pipelines/__init__.py": "",
    "pipelines/bench/__init__.py": "",
    "pipelines/bench/engine.py": """
        RATE = 2


        def speed():
            return RATE
    """,
    "run.py": """
        import sys

        sys.path[:0] = [".", "apps"]  # this project's packages, not the installed ones
        from tradeops.gate.checks import judge
        from pipelines.bench.engine import speed

        assert judge(5) == "pass" and speed() == 2
    """,
}

CATALOG = """
requirements:
- {id: BT-1, title: a, text: a, source: s, priority: High, status: implemented,
   tests: [tests/apps/gate/test_gate.py::test_bt_1_a]}
- {id: OE-1, title: b, text: b, source: s, priority: High, status: implemented,
   tests: [tests/apps/test_watch.py::test_oe_1_b, tests/pipelines/test_bench.py::test_oe_1_c]}
- {id: DC-1, title: c, text: c, source: s, priority: Low, status: implemented,
   tests: [tests/docs/test_docs.py::test_dc_1_d]}
"""


def measured_project(root: Path) -> tuple[Path, Path]:
    """Write a small project, run it under coverage (a subprocess) and write its coverage.xml."""
    write(root, {**SOURCES, "test_requirements.yaml": CATALOG})
    for args in (("-m", "coverage", "run", "run.py"), ("-m", "coverage", "xml", "-o", "reports/coverage.xml")):
        done = run(root, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    return root, root / "reports/coverage.xml"


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    return measured_project(tmp_path_factory.mktemp("measured"))


@pytest.mark.req("TF-3")
def test_tf_3_files_are_named_under_the_project_root_with_real_counts(measured):
    root, xml = measured
    files = {f.path: (f.statements, f.covered) for f in read_coverage(xml, root)}
    assert files["apps/tradeops/gate/checks.py"] == (4, 3)  # the "fail" branch never ran
    assert files["apps/tradeops/watch.py"] == (2, 0)  # never imported, still measured
    assert files["pipelines/bench/engine.py"] == (3, 3)


@pytest.mark.req("TF-3")
def test_tf_3_summary_per_package_and_per_requirement_area(measured):
    root, xml = measured
    files = read_coverage(xml, root)
    packages = {s.name: (s.statements, s.covered) for s in by_package(files)}
    assert packages["apps/tradeops/gate"] == (4, 3) and packages["pipelines/bench"] == (3, 3)
    assert packages["apps/tradeops"] == (2, 0)
    areas = {s.name: s for s in by_area(files, load_catalog(root / "test_requirements.yaml"))}
    assert set(areas) == {"BT", "OE"}  # DC's test mirrors no measured source
    assert (areas["BT"].statements, areas["BT"].covered) == (4, 3)
    assert (areas["OE"].statements, areas["OE"].covered) == (5, 3)  # watch.py and pipelines/bench
    assert areas["OE"].percent == pytest.approx(60.0)


@pytest.mark.req("TF-3")
def test_tf_3_markdown_and_a_self_contained_html_bar_chart(measured, tmp_path):
    root, xml = measured
    catalog = load_catalog(root / "test_requirements.yaml")
    markdown, page = write_coverage_summary(read_coverage(xml, root), catalog, tmp_path)
    text = markdown.read_text()
    assert "66.7 % of 9 statements" in text
    assert "| apps/tradeops/gate | 2 | 4 | 3 | 75.0 % |" in text
    assert "| OE | 3 | 5 | 3 | 60.0 % |" in text
    html = page.read_text()
    assert html.count("<svg") == 2
    assert "fill='#b42318'" in html and "fill='#177245'" in html  # below 75 % red, at 90 %+ green
    assert not re.search(r"<(script|link|img)\b|src=", html)  # nothing fetched: it opens offline


@pytest.mark.req("TF-3")
def test_tf_3_a_missing_or_empty_coverage_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read coverage XML"):
        read_coverage(tmp_path / "coverage.xml", tmp_path)
    (tmp_path / "coverage.xml").write_text("<coverage><packages/></coverage>")
    with pytest.raises(ConfigError, match="no measured files"):
        read_coverage(tmp_path / "coverage.xml", tmp_path)
