"""`notify`: Slack messages for what the other stages cannot say themselves (a failed CI job, drift)."""

from __future__ import annotations

from typing import Any

from pipelines.deploy.messages import drift, failed_job
from tradeops.notify import Notifier


def notify_failed_job(notifier: Notifier, workflow: str, job: str, url: str | None, ref: str | None) -> None:
    notifier.send(failed_job(workflow, job, url, ref))


def notify_drift(notifier: Notifier, previews: list[dict[str, Any]]) -> int:
    """One message per stack that drifted (or could not be checked); returns how many."""
    drifted = [p for p in previews if p["error"] or p["changed"]]
    for preview in drifted:
        notifier.send(drift(preview["stack"], preview["changes"], preview["error"]))
    return len(drifted)
