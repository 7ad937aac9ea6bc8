"""The invariants every stack keeps, as CrossGuard policies (plain functions, testable without the CLI)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from infra.config import check_cron

Report = Callable[..., None]
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob")
SECRETISH_KEY = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY)", re.IGNORECASE)
SECRETISH_VALUE = re.compile(r"^(xox[abprs]-|sk_live_|AKIA[0-9A-Z]{16}|-----BEGIN)")


def _pod_spec(resource_type: str, props: dict[str, Any]) -> dict[str, Any]:
    spec = props.get("spec", {})
    if resource_type.endswith(":CronJob"):
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return dict(spec.get("template", {}).get("spec", {}))


def _containers(resource_type: str, props: dict[str, Any]) -> Iterator[dict[str, Any]]:
    pod = _pod_spec(resource_type, props)
    yield from pod.get("initContainers", []) or []
    yield from pod.get("containers", []) or []


def _component(props: dict[str, Any]) -> str | None:
    return props.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component")


def hardened_containers(args: Any, report: Report) -> None:
    """Non-root, read-only root, no privilege escalation, no capabilities, limits set, image pinned by digest."""
    if args.resource_type not in WORKLOADS:
        return
    for container in _containers(args.resource_type, args.props):
        name, context = container.get("name", "?"), container.get("securityContext", {}) or {}
        if context.get("runAsNonRoot") is not True or context.get("readOnlyRootFilesystem") is not True:
            report(f"container {name}: needs runAsNonRoot and readOnlyRootFilesystem")
        if context.get("allowPrivilegeEscalation") is not False:
            report(f"container {name}: allowPrivilegeEscalation must be false")
        if "ALL" not in (context.get("capabilities", {}) or {}).get("drop", []):
            report(f"container {name}: must drop ALL capabilities")
        limits = (container.get("resources", {}) or {}).get("limits", {}) or {}
        if not {"cpu", "memory"} <= set(limits):
            report(f"container {name}: needs cpu and memory limits")
        if "@sha256:" not in str(container.get("image", "")):
            report(f"container {name}: image must be pinned by digest (name@sha256:...)")


def services_probed(args: Any, report: Report) -> None:
    """Every Deployment's containers have liveness and readiness probes."""
    if args.resource_type != "kubernetes:apps/v1:Deployment":
        return
    for container in _pod_spec(args.resource_type, args.props).get("containers", []):
        if "livenessProbe" not in container or "readinessProbe" not in container:
            report(f"container {container.get('name', '?')}: needs liveness and readiness probes")


def gate_job_await_safe(args: Any, report: Report) -> None:
    """The gate Job is awaited and fails fast: no retries, a deadline, replaced when unready, never skipped."""
    if args.resource_type != "kubernetes:batch/v1:Job" or _component(args.props) != "gate":
        return
    spec, annotations = args.props.get("spec", {}), args.props.get("metadata", {}).get("annotations", {}) or {}
    if spec.get("backoffLimit") != 0:
        report("gate Job: backoffLimit must be 0 (a failed backtest must fail the update, not retry)")
    if not spec.get("activeDeadlineSeconds"):
        report("gate Job: activeDeadlineSeconds must be set")
    if "ttlSecondsAfterFinished" in spec:
        report("gate Job: no ttlSecondsAfterFinished (the await needs the finished Job)")
    if annotations.get("pulumi.com/replaceUnready") != "true":
        report("gate Job: needs annotation pulumi.com/replaceUnready: 'true'")
    if annotations.get("pulumi.com/skipAwait") == "true":
        report("gate Job: pulumi.com/skipAwait would let the rollout pass a failing gate")
    if args.props.get("metadata", {}).get("name"):
        report("gate Job: must be auto-named so each candidate gets a new Job")


def no_secrets_in_config_maps(args: Any, report: Report) -> None:
    """Secrets go in Secrets, referenced by name: never a ConfigMap key or value that looks like one."""
    if args.resource_type != "kubernetes:core/v1:ConfigMap":
        return
    for key, value in (args.props.get("data", {}) or {}).items():
        names_a_place = key.upper().endswith(("_DIR", "_PATH", "_FILE"))  # where secrets are, not a secret
        if (SECRETISH_KEY.search(key) and not names_a_place) or SECRETISH_VALUE.search(str(value)):
            report(f"ConfigMap key {key!r} looks like a secret; put it in the tradeops-secrets Secret")


def cronjobs_never_overlap(args: Any, report: Report) -> None:
    """Maintenance jobs never run twice at once and have a valid schedule and a start deadline."""
    if args.resource_type != "kubernetes:batch/v1:CronJob":
        return
    spec = args.props.get("spec", {})
    if spec.get("concurrencyPolicy") != "Forbid":
        report("CronJob: concurrencyPolicy must be Forbid")
    if not spec.get("startingDeadlineSeconds"):
        report("CronJob: startingDeadlineSeconds must be set")
    try:
        check_cron(str(spec.get("schedule", "")))
    except ValueError as error:
        report(f"CronJob: {error}")


def trader_waits_for_gate(args: Any, report: Report) -> None:
    """Every trader Deployment depends on a gate Job, so a failing backtest stops the update before it."""
    for resource in args.resources:
        if resource.resource_type != "kubernetes:apps/v1:Deployment" or _component(resource.props) != "trader":
            continue
        gated = any(
            d.resource_type == "kubernetes:batch/v1:Job" and _component(d.props) == "gate"
            for d in resource.dependencies
        )
        if not gated:
            report("the trader Deployment must depend on the gate Job", resource.urn)


def default_deny_network(args: Any, report: Report) -> None:
    """The namespace starts from deny-all for ingress and egress."""
    for resource in args.resources:
        spec = (
            resource.props.get("spec", {})
            if resource.resource_type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
            else {}
        )
        if spec and not spec.get("podSelector") and {"Ingress", "Egress"} <= set(spec.get("policyTypes", [])):
            return
    report("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress)")


RESOURCE_CHECKS = (
    hardened_containers,
    services_probed,
    gate_job_await_safe,
    no_secrets_in_config_maps,
    cronjobs_never_overlap,
)
STACK_CHECKS = (trader_waits_for_gate, default_deny_network)
POLICIES = [
    *(
        ResourceValidationPolicy(name=f.__name__.replace("_", "-"), description=(f.__doc__ or "").strip(), validate=f)
        for f in RESOURCE_CHECKS
    ),
    *(
        StackValidationPolicy(name=f.__name__.replace("_", "-"), description=(f.__doc__ or "").strip(), validate=f)
        for f in STACK_CHECKS
    ),
]
