"""Platform pieces as a real cluster needs them: custom resources after their CRDs, cluster-wide pieces once.

Kubernetes refuses a custom resource whose CRD is not installed yet ("no matches for kind"), and one
cluster holds one copy of each cluster-scoped object (CRDs, ClusterRoles, webhooks) and of each
(kind, namespace, name). These tests read what the program declares under Pulumi's mocks, with the
URNs each resource was registered after (Pulumi registers a resource only once its dependencies and
its parent are), and the manifests our own charts render with Helm's engine.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from pipelines.infra.evaluate import Evaluation, Recorded
from pipelines.infra.render import api_version, manifests

from tests.infra.conftest import STACKS

RELEASE = "kubernetes:helm.sh/v3:Release"
# What a chart we install from a repository puts into the cluster, from its documentation (it cannot be
# rendered offline): kube-prometheus-stack installs the monitoring.coreos.com CRDs, ClusterRoles and
# bindings, admission webhooks and a node-exporter DaemonSet on host port 9100: one copy per cluster.
INSTALLS_CRDS = {"monitoring.coreos.com": "kube-prometheus-stack"}
CLUSTER_WIDE_CHARTS = {"kube-prometheus-stack"}


def _group(type_token: str) -> str:
    """`kubernetes:monitoring.coreos.com/v1:PrometheusRule` -> `monitoring.coreos.com`."""
    return type_token.split(":", 2)[1].rsplit("/", 1)[0]


def _crd_group(api: str) -> str | None:
    """The API group of `api` (apiVersion) when a CRD defines it; None for Kubernetes' own groups."""
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    return group if "." in group and not group.endswith(".k8s.io") else None


def _chart_documents(release: Recorded) -> list[dict[str, Any]]:
    """What a release of one of our own charts (a path in the repository) puts into the cluster."""
    chart = release.inputs["chart"]
    if not Path(chart).is_dir():
        return []
    rendered = helm.Chart.load(chart).render(
        release.inputs.get("values") or {},
        name=release.inputs["name"],
        namespace=release.inputs["namespace"],
        is_install=True,
    )
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def _custom_kinds(resource: Recorded) -> set[tuple[str, str]]:
    """(group, kind) of every custom resource `resource` declares: itself, or what its chart renders."""
    if resource.read is not None:
        return set()
    if resource.type == RELEASE:
        return {(group, doc["kind"]) for doc in _chart_documents(resource) if (group := _crd_group(doc["apiVersion"]))}
    if resource.type.startswith("kubernetes:") and api_version(resource.type) is not None:
        group = _group(resource.type)
        return {(group, resource.type.rsplit(":", 1)[1])} if _crd_group(f"{group}/v") else set()
    return set()


def _before(evaluation: Evaluation, resource: Recorded) -> set[str]:
    """URNs Pulumi registers (creates) before `resource`: its dependencies and its parent, transitively."""
    by_urn = {r.urn: r for r in evaluation.resources}
    seen: set[str] = set()
    pending = [*resource.dependencies, resource.parent]
    while pending:
        urn = pending.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        pending += [*by_urn[urn].dependencies, by_urn[urn].parent]
    return seen


def _installs(resource: Recorded, group: str, kind: str) -> bool:
    """`resource` installs the CRD of (group, kind), or reads it from the cluster (installed by another stack)."""
    if resource.type == RELEASE:
        return Path(resource.inputs["chart"]).name == INSTALLS_CRDS.get(group)
    crd = f"{kind.lower()}s.{group}"
    return resource.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" and crd in (
        resource.read,
        resource.outputs.get("metadata", {}).get("name"),
    )


@pytest.mark.req("DC-53")
@pytest.mark.parametrize("stack", STACKS)
def test_dc_53_every_custom_resource_is_created_after_what_installs_its_crd(evaluations, stack):
    evaluation = evaluations[stack]
    by_urn = {r.urn: r for r in evaluation.resources}
    consumers = [(r, kinds) for r in evaluation.resources if (kinds := _custom_kinds(r))]
    assert ("monitoring.coreos.com", "PrometheusRule") in {k for _, kinds in consumers for k in kinds}
    for resource, kinds in consumers:
        before = [by_urn[urn] for urn in _before(evaluation, resource)]
        for group, kind in sorted(kinds):
            assert any(_installs(r, group, kind) for r in before), (
                f"{stack}: {resource.name} declares a {kind} but is not created after what installs its CRD"
            )


def _keys(evaluation: Evaluation, one_grafana: bool) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of everything the stack puts into the cluster; namespace '' when cluster-wide.

    With `one_grafana` (the cluster's Grafana loads dashboards from every namespace) a dashboard's uid is too."""
    keys = set()
    documents = [*manifests(evaluation)]
    for release in (r for r in evaluation.resources if r.type == RELEASE and r.read is None):
        keys.add(("helm release", release.inputs["namespace"], release.inputs["name"]))
        chart = Path(release.inputs["chart"]).name
        if chart in CLUSTER_WIDE_CHARTS:
            keys.add(("cluster-wide chart", "", chart))
        for document in _chart_documents(release):
            document.setdefault("metadata", {}).setdefault("namespace", release.inputs["namespace"])
            documents.append(document)
    for document in documents:
        metadata = document["metadata"]
        keys.add((document["kind"], metadata.get("namespace", ""), metadata["name"]))
        if one_grafana and "grafana_dashboard" in metadata.get("labels", {}):
            keys |= {("grafana dashboard", "", json.loads(text)["uid"]) for text in document.get("data", {}).values()}
    return keys


def _one_grafana(evaluations: dict[str, Evaluation]) -> bool:
    """Whether the cluster's Grafana, whichever stack installs it, loads dashboards from every namespace."""
    return any(
        r.inputs.get("values", {}).get("grafana", {}).get("sidecar", {}).get("dashboards", {}).get("searchNamespace")
        == "ALL"
        for evaluation in evaluations.values()
        for r in evaluation.resources
        if r.type == RELEASE and Path(r.inputs["chart"]).name == "kube-prometheus-stack"
    )


def one_cluster(evaluations: dict[str, Evaluation]) -> tuple[int, dict[tuple[str, str, str], list[str]]]:
    """Render every stack as if on one cluster: the number of objects, and each one declared by two stacks."""
    owners: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    one_grafana = _one_grafana(evaluations)
    for stack, evaluation in evaluations.items():
        for key in _keys(evaluation, one_grafana):
            owners[key].append(stack)
    return len(owners), {key: stacks for key, stacks in sorted(owners.items()) if len(stacks) > 1}


@pytest.mark.req("DC-54")
def test_dc_54_dev_staging_and_prod_on_one_cluster_declare_nothing_twice(evaluations):
    total, duplicates = one_cluster(evaluations)
    assert total > 3 * 50
    assert duplicates == {}, "declared by more than one stack: " + "; ".join(
        f"{kind} {namespace}/{name} by {', '.join(stacks)}" for (kind, namespace, name), stacks in duplicates.items()
    )
    monitoring = ("cluster-wide chart", "", "kube-prometheus-stack")
    assert [s for s, e in evaluations.items() if monitoring in _keys(e, False)] == ["staging"]  # installed, once
    (release,) = [r for r in evaluations["staging"].resources if r.name == "platform-kube-prometheus-stack"]
    assert release.retain_on_delete  # destroying staging, or handing ownership on, leaves the cluster its monitoring
