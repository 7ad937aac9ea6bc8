"""The monitoring release's Prometheus loads our alert rules and scrapes every service, as the chart selects.

The stacks are evaluated under Pulumi's mocks; the kube-prometheus-stack release's values give the
Prometheus selectors (tests/infra/kube_prometheus.py models the chart), our chart renders the
PrometheusRule with the values the stack passes it, and each ServiceMonitor must reach a Service's
named port in its namespace. A NetworkPolicy must let the monitoring namespace in on that port.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.alert_rules import prometheus_rule
from tests.infra.conftest import STACKS, of_kind
from tests.infra.kube_prometheus import matches, monitor_namespace_matches, prometheus_selectors

pytestmark = pytest.mark.req("DC-50")

RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
SERVICE_MONITOR_SPEC = {"selector", "namespaceSelector", "endpoints", "jobLabel"}  # fields of ServiceMonitor v1 we use
ENDPOINT_FIELDS = {"port", "path", "interval", "scheme", "honorLabels"}


def monitoring_releases(evaluations) -> list[dict[str, Any]]:
    """The kube-prometheus-stack releases any stack declares (the cluster's Prometheus)."""
    found = [
        r.inputs
        for evaluation in evaluations.values()
        for r in of_kind(evaluation, RELEASE)
        if r.inputs["chart"] == "kube-prometheus-stack"
    ]
    assert found, "no stack installs kube-prometheus-stack"
    return found


def namespace_labels(evaluation) -> dict[str, str]:
    (namespace,) = of_kind(evaluation, "kubernetes:core/v1:Namespace")
    name = namespace.inputs["metadata"]["name"]
    return {"kubernetes.io/metadata.name": name, **namespace.inputs["metadata"].get("labels", {})}


def our_rule(evaluation) -> dict[str, Any]:
    (alerts,) = [r for r in of_kind(evaluation, RELEASE) if r.inputs["chart"].endswith("tradeops-alerts")]
    return prometheus_rule(alerts.inputs["namespace"], alerts.inputs.get("values"))


@pytest.mark.parametrize("stack", STACKS)
def test_dc_50_the_monitoring_prometheus_selects_our_prometheus_rule(evaluations, stack):
    evaluation = evaluations[stack]
    rule = our_rule(evaluation)
    for release in monitoring_releases(evaluations):
        selector, namespaces = prometheus_selectors(release.get("values", {}), release["name"])["rule"]
        assert matches(selector, rule["metadata"]["labels"]), (release["name"], selector, rule["metadata"]["labels"])
        assert matches(namespaces, namespace_labels(evaluation))


@pytest.mark.parametrize("stack", STACKS)
def test_dc_50_every_service_is_scraped_through_a_selected_service_monitor(evaluations, stack):
    evaluation = evaluations[stack]
    namespace = namespace_labels(evaluation)["kubernetes.io/metadata.name"]
    services = of_kind(evaluation, "kubernetes:core/v1:Service")
    monitors = of_kind(evaluation, SERVICE_MONITOR)
    scraped: set[str] = set()
    for monitor in monitors:
        metadata, spec = monitor.inputs["metadata"], monitor.inputs["spec"]
        assert monitor.inputs["apiVersion"] == "monitoring.coreos.com/v1" and monitor.inputs["kind"] == "ServiceMonitor"
        assert set(spec) <= SERVICE_MONITOR_SPEC and all(set(e) <= ENDPOINT_FIELDS for e in spec["endpoints"])
        for release in monitoring_releases(evaluations):
            selector, namespaces = prometheus_selectors(release.get("values", {}), release["name"])["serviceMonitor"]
            assert matches(selector, metadata["labels"]), (metadata["name"], selector)
            assert matches(namespaces, namespace_labels(evaluation))
        reached = [
            s
            for s in services
            if matches(spec["selector"], s.inputs["metadata"]["labels"])
            and monitor_namespace_matches(spec["namespaceSelector"], s.inputs["metadata"]["namespace"], namespace)
        ]
        assert len(reached) == 1, f"{metadata['name']} selects {len(reached)} Services"
        ports = {p["name"] for p in reached[0].inputs["spec"]["ports"]}
        assert [e["port"] for e in spec["endpoints"]] == ["http"] and "http" in ports
        assert spec["endpoints"][0]["path"] == "/metrics"
        scraped.add(reached[0].inputs["metadata"]["name"])
    assert scraped == {s.inputs["metadata"]["name"] for s in services}  # every service serves /metrics


@pytest.mark.parametrize("stack", STACKS)
def test_dc_50_the_monitoring_namespace_may_reach_every_scraped_port(evaluations, stack):
    evaluation = evaluations[stack]
    (release,) = {r["namespace"] for r in monitoring_releases(evaluations)}
    policies = of_kind(evaluation, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    monitors = of_kind(evaluation, SERVICE_MONITOR)
    assert monitors
    for monitor in monitors:
        pods = monitor.inputs["spec"]["selector"]["matchLabels"]
        allowed = [
            rule
            for policy in policies
            if policy.inputs["spec"]["podSelector"].get("matchLabels") == pods
            for rule in policy.inputs["spec"].get("ingress", [])
            if any(
                peer.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": release}
                for peer in rule.get("from", [])
            )
        ]
        assert allowed, f"nothing lets {release} scrape {pods}"


def test_dc_50_the_model_follows_the_chart_values():
    release = "kps"
    default = prometheus_selectors({}, release)
    assert default["rule"] == ({"matchLabels": {"release": "kps"}}, {})
    opened = prometheus_selectors({"prometheus": {"prometheusSpec": {"ruleSelectorNilUsesHelmValues": False}}}, release)
    assert opened["rule"][0] == {} and matches(opened["rule"][0], {"any": "label"})
    assert opened["serviceMonitor"][0] == {"matchLabels": {"release": "kps"}}  # each kind has its own switch
    given = {"matchExpressions": [{"key": "team", "operator": "In", "values": ["desk"]}]}
    explicit = prometheus_selectors({"prometheus": {"prometheusSpec": {"podMonitorSelector": given}}}, release)
    assert explicit["podMonitor"][0] == given
    assert matches(given, {"team": "desk"}) and not matches(given, {"team": "ops"}) and not matches(given, {})
    assert not matches(default["rule"][0], {"app.kubernetes.io/part-of": "tradeops"})  # today's rule labels
