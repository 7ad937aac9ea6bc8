"""Turn what the program declared into Kubernetes manifests, one file per resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipelines.infra.evaluate import Evaluation, Recorded

REDACTED = "<redacted: a Pulumi secret>"
MARKER = ".tradeops-render"


def api_version(type_token: str) -> tuple[str, str] | None:
    """`kubernetes:apps/v1:Deployment` -> ("apps/v1", "Deployment"); None for anything not a manifest."""
    provider, _, rest = type_token.partition(":")
    if provider != "kubernetes" or rest.startswith("helm.sh/"):
        return None
    group_version, _, kind = rest.partition(":")
    group, _, version = group_version.partition("/")
    return (version if group == "core" else group_version), kind


SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")  # Pulumi's wire marker


def manifest_values(value: Any) -> Any:
    """Wire values back to manifest values: secrets unwrapped (then redacted by the caller), whole floats to ints."""
    if isinstance(value, dict) and value.get(SECRET_SIGNATURE[0]) == SECRET_SIGNATURE[1]:
        return manifest_values(value.get("value"))
    if isinstance(value, dict):
        return {k: manifest_values(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [manifest_values(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def manifest(resource: Recorded) -> dict[str, Any] | None:
    """The manifest of one recorded resource (secret values redacted), or None."""
    kind_info = api_version(resource.type)
    if kind_info is None or resource.read is not None:  # a read object is another stack's (or the cluster's)
        return None
    body = manifest_values(resource.outputs)
    body["apiVersion"], body["kind"] = kind_info
    if body["kind"] == "Secret":
        for field in ("stringData", "data"):
            if field in body:
                body[field] = dict.fromkeys(body[field], REDACTED)
    ordered = {key: body[key] for key in ("apiVersion", "kind", "metadata") if key in body}
    return ordered | {k: v for k, v in sorted(body.items()) if k not in ordered}


def manifests(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Every manifest of the stack, in a stable order."""
    found = [m for r in evaluation.resources if (m := manifest(r)) is not None]
    return sorted(found, key=lambda m: (m["kind"], m["metadata"].get("name", "")))


def write(evaluation: Evaluation, out: Path) -> list[Path]:
    """Write `<out>/<kind>-<name>.yaml` for every manifest; return the paths written."""
    marker = out / MARKER
    if out.exists() and any(out.iterdir()) and not marker.exists():
        raise FileExistsError(
            f"{out} is not empty and was not written by `tradeops infra render`: choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text("Written by `tradeops infra render`; its *.yaml files are replaced on every render.\n")
    for stale in out.glob("*.yaml"):
        stale.unlink()
    written = []
    for item in manifests(evaluation):
        path = out / f"{item['kind'].lower()}-{item['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(item, sort_keys=False))
        written.append(path)
    return written
