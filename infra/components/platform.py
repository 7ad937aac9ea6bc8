"""Platform pieces as Helm releases with pinned chart versions: PostgreSQL, MinIO, monitoring, our alert rules.

The monitoring stack (kube-prometheus-stack: CRDs, cluster roles, webhooks, one Grafana) is cluster-wide:
only the stack whose config sets `platform.cluster_owner` installs it; the others read its CRDs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from infra.components.crds import MONITORING_CRDS, MONITORING_GROUP, InstalledCrds, InstalledCrdsArgs
from infra.components.monitoring import selector_labels
from infra.config import Platform

CHARTS = Path(__file__).resolve().parents[2] / "charts"
REPOSITORIES = {
    "postgresql": "https://charts.bitnami.com/bitnami",
    "minio": "https://charts.min.io/",
    "kube-prometheus-stack": "https://prometheus-community.github.io/helm-charts",
}


@dataclass(frozen=True)
class PlatformArgs:
    namespace: pulumi.Input[str]
    config: Platform


class PlatformReleases(pulumi.ComponentResource):
    """Database, object store and monitoring for the stack; charts pinned, values per stack."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:platform:PlatformReleases", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.config

        def release(
            chart: str, version: str, namespace: pulumi.Input[str], values: dict[str, object], retain: bool = False
        ) -> k8s.helm.v3.Release:
            return k8s.helm.v3.Release(
                f"{name}-{chart}",
                name=chart,
                chart=chart,
                version=version,
                namespace=namespace,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=REPOSITORIES[chart]),
                values=values,
                atomic=True,
                create_namespace=namespace == "monitoring",  # the stack's own namespace is declared; this one is not
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain),
            )

        self.postgresql = release(
            "postgresql",
            p.postgresql_chart_version,
            args.namespace,
            {
                "auth": {"database": "tradeops", "username": "tradeops", "existingSecret": "tradeops-postgresql"},
                "primary": {"persistence": {"size": p.postgresql_storage}},
            },
        )
        self.minio = release(
            "minio",
            p.minio_chart_version,
            args.namespace,
            {
                "mode": "standalone",
                "persistence": {"size": p.object_storage},
                "existingSecret": "tradeops-minio",
                "buckets": [{"name": p.bucket, "policy": "none"}],
                "podLabels": {"app.kubernetes.io/name": "minio"},  # what the NetworkPolicies select
            },
        )
        self.monitoring: k8s.helm.v3.Release | None = None
        self.monitoring_crds: pulumi.Resource  # what every monitoring.coreos.com resource is created after
        if p.cluster_owner:
            self.monitoring = self.monitoring_crds = release(
                "kube-prometheus-stack",
                p.monitoring_chart_version,
                "monitoring",
                {
                    "grafana": {"sidecar": {"dashboards": {"enabled": True, "searchNamespace": "ALL"}}},
                },
                retain=True,  # destroying the owner, or handing ownership on, leaves the cluster its monitoring
            )
        else:
            self.monitoring_crds = InstalledCrds(
                f"{name}-monitoring-crds", InstalledCrdsArgs(MONITORING_GROUP, MONITORING_CRDS), opts=child
            )
        self.alerts = k8s.helm.v3.Release(
            f"{name}-alerts",
            name="tradeops-alerts",
            chart=str(CHARTS / "tradeops-alerts"),
            namespace=args.namespace,
            values={
                "dashboard": p.cluster_owner,  # one Grafana per cluster: its owner brings the dashboard
                "prometheusSelectorLabels": selector_labels(),  # what the monitoring release selects rules by
            },
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.monitoring_crds]),
        )
        self.register_outputs({})
