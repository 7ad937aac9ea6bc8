"""BacktestGate: a Job that runs `tradeops gate` on the stack's candidate; the rollout waits on it.

pulumi-kubernetes awaits a Job until Complete and fails the update when it fails, so resources
that depend on the gate (the trader) are never touched by a failing candidate. The Job is
auto-named, never retried (backoffLimit 0), bounded in time, and replaced when its template
changes, which carries the release version and a hash of the candidate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.components import common
from infra.config import BundleInputs, StackConfig, bundle_content
from tradeops.gate.candidate import Candidate

CANDIDATE_PATH = "/etc/tradeops/candidate"


def candidate_hash(candidate: Candidate) -> str:
    """A short, stable hash of strategy, parameters, data, costs and thresholds."""
    canonical = json.dumps(candidate.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BacktestGateArgs:
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    version: str
    candidate: Candidate
    timeout_seconds: int
    stack: StackConfig | None = None
    bundle: BundleInputs | None = None  # from the deploy: the pod template then carries the bundle id
    bundle_id: str | None = None  # a stored bundle's id (a promotion, a rollback): carried as given


def _template_annotations(args: BacktestGateArgs, digest: str) -> pulumi.Output[dict[str, str]]:
    """Version and candidate hash; and the bundle id: a stored bundle's as the deploy gives it, or, for a new
    bundle, computed from the deploy's bundle inputs (hash of image, commit, ...)."""
    base = {"tradeops.io/version": args.version, "tradeops.io/candidate-hash": digest}
    if args.bundle_id is not None:
        return pulumi.Output.from_input(base | {"tradeops.io/bundle-id": args.bundle_id})
    stack, inputs = args.stack, args.bundle
    if stack is None or inputs is None:
        return pulumi.Output.from_input(base)
    return pulumi.Output.from_input(args.image).apply(
        lambda image: base | {"tradeops.io/bundle-id": bundle_content(stack, image, inputs).id}
    )


class BacktestGate(pulumi.ComponentResource):
    """The candidate's ConfigMap and the gate Job that judges it."""

    def __init__(self, name: str, args: BacktestGateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:apps:BacktestGate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = common.labels("gate", args.version)
        digest = candidate_hash(args.candidate)
        self.candidate_hash = digest
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-candidate",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                namespace=args.namespace, labels=labels
            ),  # auto-named: new content, new map
            data={"candidate.yaml": yaml.safe_dump(args.candidate.model_dump(mode="json"), sort_keys=False)},
            opts=child,
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                namespace=args.namespace,
                labels=labels,
                annotations={"pulumi.com/replaceUnready": "true"},
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=0,
                active_deadline_seconds=args.timeout_seconds,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels,
                        annotations=_template_annotations(args, digest),
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="Never",
                        automount_service_account_token=False,
                        security_context=common.pod_security(),
                        init_containers=[common.seed_numba_cache(args.image)],
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="gate",
                                image=args.image,
                                image_pull_policy="Always",
                                args=[  # the verdict is recorded as the stack candidate's (the gate metric)
                                    "gate",
                                    "--config",
                                    f"{CANDIDATE_PATH}/candidate.yaml",
                                    "--stack-verdict",
                                    "--json",
                                ],
                                env_from=common.settings_env(),
                                env=common.thread_env(),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "500m", "memory": "512Mi"}, limits={"cpu": "2", "memory": "2Gi"}
                                ),
                                security_context=common.container_security(),
                                volume_mounts=[
                                    *common.mounts(),
                                    k8s.core.v1.VolumeMountArgs(
                                        name="candidate", mount_path=CANDIDATE_PATH, read_only=True
                                    ),
                                ],
                            )
                        ],
                        volumes=[
                            *common.volumes(),
                            k8s.core.v1.VolumeArgs(
                                name="candidate",
                                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=self.config_map.metadata.name),
                            ),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{args.timeout_seconds + 120}s", update=f"{args.timeout_seconds + 120}s"
                ),
            ),
        )
        self.register_outputs({"job": self.job.metadata.name, "candidate_hash": digest})
