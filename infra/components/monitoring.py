"""ServiceMonitors: how the kube-prometheus-stack's Prometheus finds our services' /metrics.

That Prometheus ignores `prometheus.io/*` pod annotations; it scrapes what a ServiceMonitor or
PodMonitor describes, and only the monitors (and PrometheusRules) whose labels match its selectors.
The chart's default (`*SelectorNilUsesHelmValues: true`) selects `release: <its release name>`, so
every monitor and our PrometheusRule carry that label (`selector_labels`); the chart's values stay
the default, and no other release's objects are picked up by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common

MONITORING_RELEASE = "kube-prometheus-stack"  # the Helm release of the monitoring stack (infra/components/platform.py)
SCRAPE_INTERVAL = "30s"


def selector_labels() -> dict[str, str]:
    """The labels the monitoring release's Prometheus selects rules, ServiceMonitors and PodMonitors by."""
    return {"release": MONITORING_RELEASE}


@dataclass(frozen=True)
class ServiceMonitorsArgs:
    namespace: pulumi.Input[str]
    version: str
    components: tuple[str, ...]  # the TradingServices whose Service exposes /metrics on the `http` port


class ServiceMonitors(pulumi.ComponentResource):
    """One ServiceMonitor a service: its Service in the stack's namespace, port `http`, path /metrics."""

    def __init__(self, name: str, args: ServiceMonitorsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:monitoring:ServiceMonitors", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.monitors = [
            k8s.apiextensions.CustomResource(
                f"{name}-{component}",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"tradeops-{component}",
                    namespace=args.namespace,
                    labels={**common.labels("monitoring", args.version), **selector_labels()},
                ),
                spec={
                    "selector": {"matchLabels": common.selector(component)},
                    "namespaceSelector": {"matchNames": [args.namespace]},
                    "endpoints": [{"port": "http", "path": "/metrics", "interval": SCRAPE_INTERVAL}],
                },
                opts=child,
            )
            for component in args.components
        ]
        self.register_outputs({})
