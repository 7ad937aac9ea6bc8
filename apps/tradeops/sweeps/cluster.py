"""A sharded sweep on Kubernetes: one Indexed Job, one pod per shard, parts in the object store.

The sweep is a run (kind `sweep`) from the moment it is submitted; its spec lives at
`runs/<id>/sweep.json`, each pod (reading JOB_COMPLETION_INDEX) writes
`runs/<id>/parts/part-<index>.parquet`, and collecting merges the parts into the run's result, so
`runs`, the dashboard and cleanup's retention see a sharded sweep like any other.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from tradeops.errors import ConfigError, TradeopsError
from tradeops.kube import thread_env
from tradeops.store.objects import ObjectStore
from tradeops.sweeps.config import SERVICE_ACCOUNT, SweepJobConfig
from tradeops.sweeps.spec import SweepSpec

UID = 10001  # the image's user; the namespace enforces the restricted pod security standard
SWEEP_LABEL = "tradeops.io/sweep"
KUBE_TIMEOUT_SECONDS = 15


class KubernetesError(TradeopsError):
    """The API server refused a request or could not be reached."""


class SweepDocument(BaseModel):
    """What was submitted: the spec, the shard count and where the Job runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    spec: SweepSpec
    shards: int
    namespace: str
    job: str
    image: str
    version: str


@dataclass(frozen=True)
class Target:
    """Where a stack runs its shards: namespace, image, release version, the stack's job settings."""

    namespace: str
    image: str
    version: str
    config: SweepJobConfig


def sweep_key(run_id: str) -> str:
    return f"runs/{run_id}/sweep.json"


def part_key(run_id: str, shard: int) -> str:
    return f"runs/{run_id}/parts/part-{shard:05d}.parquet"


def job_name(run_id: str) -> str:
    return f"tradeops-sweep-{run_id[:16]}"


def job_manifest(document: SweepDocument, config: SweepJobConfig) -> dict[str, Any]:
    """The batch/v1 Indexed Job: each pod runs `tradeops sweep shard ID` for its JOB_COMPLETION_INDEX."""
    labels = {
        "app.kubernetes.io/name": "tradeops-sweep",
        "app.kubernetes.io/component": "sweep",
        "app.kubernetes.io/part-of": "tradeops",
        "app.kubernetes.io/version": document.version,
        SWEEP_LABEL: document.id,
    }
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": UID,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = {
        "name": "shard",
        "image": document.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["sweep", "shard", document.id],
        "envFrom": [{"configMapRef": {"name": "tradeops-settings"}}],
        "env": thread_env(),
        "resources": {
            "requests": {"cpu": config.cpu_request, "memory": config.memory_request},
            "limits": {"cpu": config.cpu_limit, "memory": config.memory_limit},
        },
        "securityContext": security,
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, private to the pod
            {"name": "secrets", "mountPath": "/run/secrets/tradeops", "readOnly": True},
        ],
    }
    pod = {
        "restartPolicy": "Never",  # required by backoffLimitPerIndex: the Job, not the kubelet, retries a shard
        "serviceAccountName": SERVICE_ACCOUNT,
        "automountServiceAccountToken": False,  # shards only read data and write parts
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
            {"name": "secrets", "secret": {"secretName": "tradeops-secrets", "optional": True, "defaultMode": 0o400}},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": document.job, "namespace": document.namespace, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": document.shards,
            "parallelism": min(document.shards, config.parallelism),
            "backoffLimitPerIndex": config.retries_per_shard,
            "maxFailedIndexes": document.shards,  # a failed shard does not stop the others
            "activeDeadlineSeconds": config.deadline_seconds,
            "ttlSecondsAfterFinished": config.ttl_seconds,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def submit(
    objects: ObjectStore, batch: Any, run_id: str, spec: SweepSpec, shards: int, target: Target
) -> SweepDocument:
    """Store the sweep's document, then create its Indexed Job; return the document.

    A `dataset:NAME` is pinned to its latest version here, so every shard reads the same one.
    """
    from tradeops.data.pinning import pin

    if not 1 <= shards <= target.config.max_shards:
        raise ConfigError(f"--shards {shards}: this stack allows 1 to {target.config.max_shards}")
    document = SweepDocument(
        id=run_id,
        spec=spec.model_copy(update={"data": pin(spec.data, objects).reference}),
        shards=shards,
        namespace=target.namespace,
        job=job_name(run_id),
        image=target.image,
        version=target.version,
    )
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    objects.put(sweep_key(run_id), document.model_dump_json(indent=2).encode(), "application/json")
    try:
        batch.create_namespaced_job(
            target.namespace, job_manifest(document, target.config), _request_timeout=KUBE_TIMEOUT_SECONDS
        )
    except ApiException as error:
        raise KubernetesError(f"the Kubernetes API refused Job {document.job}: {error.status} {error.reason}") from None
    except (HTTPError, OSError) as error:
        raise KubernetesError(f"the Kubernetes API cannot be reached: {type(error).__name__}") from None
    return document


def load_document(objects: ObjectStore, run_id: str) -> SweepDocument:
    """The submitted sweep; a ConfigError when there is none with this id."""
    if sweep_key(run_id) not in objects.keys(f"runs/{run_id}/"):
        raise ConfigError(f"no sharded sweep {run_id} (no {sweep_key(run_id)} in the object store)")
    return SweepDocument.model_validate_json(objects.get(sweep_key(run_id)))


def parse_indexes(text: str | None) -> set[int]:
    """Read the API server's index ranges, e.g. "0-2,5" -> {0, 1, 2, 5}."""
    found: set[int] = set()
    for item in (text or "").split(","):
        if not item.strip():
            continue
        low, _, high = item.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def shard_status(objects: ObjectStore, batch: Any, run_id: str) -> dict[str, Any]:
    """Shards done, failed and running: the Job's completed/failed indexes, and which parts are stored."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    document = load_document(objects, run_id)
    stored = {int(k.rsplit("-", 1)[1].split(".")[0]) for k in objects.keys(f"runs/{run_id}/parts/")}
    try:
        job = batch.read_namespaced_job_status(document.job, document.namespace, _request_timeout=KUBE_TIMEOUT_SECONDS)
        status = job.status
        done = parse_indexes(status.completed_indexes) if status else set()
        failed = parse_indexes(status.failed_indexes) if status else set()
        conditions = [c.type for c in (status.conditions or []) if c.status == "True"] if status else []
        job_state = "complete" if "Complete" in conditions else "failed" if "Failed" in conditions else "running"
    except ApiException as error:
        if error.status != 404:
            raise KubernetesError(f"reading Job {document.job}: {error.status} {error.reason}") from None
        done, failed, job_state = stored, set(), "gone"  # removed by its TTL or cleanup: the parts tell
    except (HTTPError, OSError) as error:
        raise KubernetesError(f"the Kubernetes API cannot be reached: {type(error).__name__}") from None
    pending = set(range(document.shards)) - done - failed
    return {
        "id": run_id,
        "job": document.job,
        "namespace": document.namespace,
        "state": job_state,
        "shards": document.shards,
        "done": sorted(done),
        "failed": sorted(failed),
        "running": sorted(pending) if job_state == "running" else [],
        "missing": sorted(pending) if job_state != "running" else [],
        "parts_stored": len(stored),
    }


def run_shard(objects: ObjectStore, run_id: str, index: int | None = None) -> str:
    """What each pod does: compute shard JOB_COMPLETION_INDEX of the sweep and store its part."""
    from tradeops.sweeps.parts import part_to_bytes, run_part

    if index is None:
        raw = os.environ.get("JOB_COMPLETION_INDEX", "")
        if not raw.isdigit():
            raise ConfigError("JOB_COMPLETION_INDEX is not set to a shard number (this runs in an Indexed Job pod)")
        index = int(raw)
    document = load_document(objects, run_id)
    if index >= document.shards:
        raise ConfigError(f"JOB_COMPLETION_INDEX {index} is outside the sweep's {document.shards} shards")
    part = run_part(document.spec, index, document.shards)
    key = part_key(run_id, index)
    objects.put(key, part_to_bytes(part), "application/vnd.apache.parquet")
    return key


def collect(objects: ObjectStore, run_id: str, top: int = 5) -> tuple[dict[str, Any], bytes]:
    """Merge the stored parts (refusing a missing, doubled or foreign one); the run's result and its table."""
    from tradeops.sweeps.found import best_candidate
    from tradeops.sweeps.parts import merge_parts, merge_report, part_from_bytes
    from tradeops.sweeps.results import sweep_result

    document = load_document(objects, run_id)
    keys = sorted(objects.keys(f"runs/{run_id}/parts/"))
    parts = [(key.rsplit("/", 1)[1], part_from_bytes(key, objects.get(key))) for key in keys]
    merged = merge_parts(parts)
    if merged.manifest.sweep != document.spec.identity():
        raise ConfigError(f"runs/{run_id}/parts: the parts belong to sweep {merged.manifest.sweep}, not to this one")
    result = sweep_result(merged, document.spec.sort_by, top) | {"merge": merge_report(parts, merged)}
    if document.spec.kind == "sweep":  # the best point, recording the grid and this run (walk-forward: its own)
        spec = document.spec
        result["candidate"] = best_candidate(
            merged.table, spec.sort_by, strategy=spec.strategy, data=spec.data, grid=spec.grid,
            execution=spec.settings, run=run_id,
        )  # fmt: skip
    return json.loads(json.dumps(result)), merged.table.to_csv(index=False).encode()


def running_image(objects: ObjectStore, stack: str) -> tuple[str, str]:
    """The image reference and version of the stack's running release (from the release store)."""
    from tradeops.releases import ReleaseStore

    release = ReleaseStore(objects).current(stack)
    if release is None or not release.image:
        raise ConfigError(f"stack {stack!r} has no running release with an image; deploy it first")
    return release.image, release.version


def stack_target(objects: ObjectStore, stack: str, stack_text: str, source: str) -> Target:
    """Where the stack runs shards: its namespace and `sweeps` settings (the stack file), its running image."""
    from pydantic import ValidationError

    from tradeops.strategies.base import format_validation
    from tradeops.vcs.stackfile import read_settings

    settings = read_settings(stack_text, source)
    namespace = settings.get("namespace")
    if not isinstance(namespace, str):
        raise ConfigError(f"{source}: no `namespace` under tradeops:settings")
    try:
        config = SweepJobConfig.model_validate(settings.get("sweeps") or {})
    except ValidationError as error:
        raise ConfigError(f"{source}: sweeps: {format_validation(error)}") from None
    image, version = running_image(objects, stack)
    return Target(namespace=namespace, image=image, version=version, config=config)
