"""Self-contained HTML reports."""

from tradeops.reports.html import write_report

__all__ = ["write_report"]
