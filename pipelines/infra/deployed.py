"""Declared versus deployed: compare the program with `pulumi stack export` (deployment format v3)."""

from __future__ import annotations

from typing import Any

from pipelines.infra.evaluate import evaluate
from pipelines.infra.render import manifest_values

COMPARED = {  # kind -> fields whose declared and deployed values must agree
    "kubernetes:apps/v1:Deployment": (("spec", "replicas"), ("spec", "template", "spec", "containers", 0, "image")),
    "kubernetes:batch/v1:CronJob": (("spec", "schedule"),),
    "kubernetes:batch/v1:Job": (("spec", "template", "metadata", "annotations", "tradeops.io/candidate-hash"),),
}
SKIPPED_TYPES = ("pulumi:pulumi:Stack", "pulumi:providers:")


def _dig(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _deployed(export: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    if export.get("version") != 3 or "deployment" not in export:
        raise ValueError("not a `pulumi stack export` document in deployment format version 3")
    found = {}
    for resource in export["deployment"].get("resources", []):
        kind = resource["type"]
        if kind.startswith(SKIPPED_TYPES):
            continue
        name = resource["urn"].rsplit("::", 1)[-1]
        found[(kind, name)] = manifest_values(resource.get("outputs") or resource.get("inputs") or {})
    return found


def compare(stack: str, export: dict[str, Any]) -> list[str]:
    """Return one line per difference: missing, not declared, or a compared field that differs."""
    declared = {(r.type, r.name): manifest_values(r.outputs) for r in evaluate(stack).resources}
    deployed = _deployed(export)
    lines = [f"missing in the deployment: {kind} {name}" for kind, name in sorted(declared.keys() - deployed.keys())]
    lines += [f"deployed but not declared: {kind} {name}" for kind, name in sorted(deployed.keys() - declared.keys())]
    for key in sorted(declared.keys() & deployed.keys()):
        for path in COMPARED.get(key[0], ()):
            want, have = _dig(declared[key], path), _dig(deployed[key], path)
            if want != have:
                field = ".".join(str(p) for p in path)
                lines.append(f"changed: {key[0]} {key[1]} {field}: declared {want!r}, deployed {have!r}")
    return lines
