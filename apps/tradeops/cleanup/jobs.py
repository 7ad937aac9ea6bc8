"""Finished Kubernetes Jobs, through the official client (in-cluster config, or a given API server)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tradeops.kube import batch_api


@dataclass(frozen=True)
class FinishedJob:
    name: str
    finished_at: datetime
    succeeded: bool
    labels: dict[str, str]
    annotations: dict[str, str]


class JobsApi(Protocol):
    def finished(self) -> list[FinishedJob]: ...
    def delete(self, name: str) -> None: ...


class KubernetesJobs:
    """The namespace's batch/v1 Jobs via kubernetes' BatchV1Api."""

    def __init__(self, namespace: str, host: str | None = None) -> None:
        self.namespace = namespace
        self.api = batch_api(host)

    def finished(self) -> list[FinishedJob]:
        found = []
        for job in self.api.list_namespaced_job(self.namespace).items:
            status: Any = job.status
            if not status or not status.conditions:
                continue
            done = [c for c in status.conditions if c.type in ("Complete", "Failed") and c.status == "True"]
            if not done:
                continue
            metadata = job.metadata
            found.append(
                FinishedJob(
                    name=metadata.name,
                    finished_at=done[0].last_transition_time,
                    succeeded=done[0].type == "Complete",
                    labels=dict(metadata.labels or {}),
                    annotations=dict(
                        (job.spec.template.metadata.annotations or {})
                        if job.spec and job.spec.template and job.spec.template.metadata
                        else {}
                    ),
                )
            )
        return found

    def delete(self, name: str) -> None:
        self.api.delete_namespaced_job(name, self.namespace, propagation_policy="Background")
