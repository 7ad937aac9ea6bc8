"""Reports of a test run: results from the JUnit XML (TF-4) and a coverage summary from coverage.xml (TF-3)."""

from tradeops.testreport.coverage import read_coverage, write_coverage_summary
from tradeops.testreport.results import results_markdown, write_results

__all__ = ["read_coverage", "results_markdown", "write_coverage_summary", "write_results"]
