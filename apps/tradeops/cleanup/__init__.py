"""Scheduled cleanup: old runs and their objects, orphaned artifacts, finished Kubernetes Jobs; with a report."""

from tradeops.cleanup.plan import CleanupPolicy, CleanupReport, run_cleanup

__all__ = ["CleanupPolicy", "CleanupReport", "run_cleanup"]
