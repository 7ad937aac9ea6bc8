"""How a kube-prometheus-stack release selects PrometheusRules, ServiceMonitors and PodMonitors, from its values.

A model of two upstream pieces, written from reading them (prometheus-community/helm-charts, chart
`kube-prometheus-stack` 79.5.0, the version infra/config.py pins):

- `values.yaml`, `prometheus.prometheusSpec`: `<kind>Selector: {}`, `<kind>SelectorNilUsesHelmValues: true`
  and `<kind>NamespaceSelector: {}` for rules, service monitors and pod monitors;
- `templates/prometheus/prometheus.yaml`: a non-empty `<kind>Selector` is used as given; else, when
  `<kind>SelectorNilUsesHelmValues` is true, the selector is `matchLabels: {release: <release name>}`;
  else `{}`. An empty namespace selector is rendered as `{}`.

and of the Prometheus Operator's reading of the Prometheus resource: a selector `{}` selects every
object, a namespace selector `{}` every namespace; `matchLabels` and `matchExpressions` as in
Kubernetes label selectors.
"""

from __future__ import annotations

from typing import Any

KINDS = ("rule", "serviceMonitor", "podMonitor")
CHART_DEFAULTS: dict[str, Any] = {
    key: value
    for kind in KINDS
    for key, value in (
        (f"{kind}Selector", {}),
        (f"{kind}SelectorNilUsesHelmValues", True),
        (f"{kind}NamespaceSelector", {}),
    )
}


def prometheus_selectors(values: dict[str, Any], release: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Kind -> (object selector, namespace selector) of the Prometheus the chart renders with `values`."""
    spec = CHART_DEFAULTS | values.get("prometheus", {}).get("prometheusSpec", {})
    selectors = {}
    for kind in KINDS:
        if spec[f"{kind}Selector"]:
            chosen = spec[f"{kind}Selector"]
        elif spec[f"{kind}SelectorNilUsesHelmValues"]:
            chosen = {"matchLabels": {"release": release}}
        else:
            chosen = {}
        selectors[kind] = (chosen, spec[f"{kind}NamespaceSelector"] or {})
    return selectors


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector against an object's labels (`{}` matches everything)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, wanted = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in wanted):
            return False
        if operator == "NotIn" and present and labels[key] in wanted:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def monitor_namespace_matches(selector: dict[str, Any], namespace: str, own: str) -> bool:
    """A monitor's `namespaceSelector` (`any`, `matchNames`; empty: the monitor's `own` namespace) against a
    Service's namespace."""
    if not selector:
        return namespace == own
    return bool(selector.get("any")) or namespace in selector.get("matchNames", [])
