"""What a custom resource is created after: the CRDs of its kind, installed by this stack or read from the cluster.

Kubernetes refuses a custom resource whose CRD does not exist yet ("no matches for kind"). Declare every
PrometheusRule, ServiceMonitor or PodMonitor (or a release of a chart holding one) with
`pulumi.ResourceOptions(depends_on=[platform.monitoring_crds])`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

MONITORING_GROUP = "monitoring.coreos.com"
MONITORING_CRDS = ("prometheusrules", "servicemonitors", "podmonitors")  # the kinds the stack declares, plural


@dataclass(frozen=True)
class InstalledCrdsArgs:
    group: str
    plurals: tuple[str, ...]


class InstalledCrds(pulumi.ComponentResource):
    """CRDs another stack installed (the cluster's platform owner), read from the cluster before anything uses them.

    A read fails the update with the CRD's name when the owner has not installed it yet, before any
    custom resource is sent to the cluster."""

    def __init__(self, name: str, args: InstalledCrdsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:platform:InstalledCrds", name, None, opts)
        for plural in args.plurals:
            k8s.apiextensions.v1.CustomResourceDefinition.get(
                f"{name}-{plural}", f"{plural}.{args.group}", opts=pulumi.ResourceOptions(parent=self)
            )
        self.register_outputs({})
