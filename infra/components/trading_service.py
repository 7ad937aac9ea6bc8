"""TradingService: one long-running tradeops service (Deployment, Service, ServiceAccount, PDB)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common
from infra.config import ServiceConfig


@dataclass(frozen=True)
class TradingServiceArgs:
    """What differs between services: the role, its config, and whether it needs the Kubernetes API."""

    component: str  # backtester | trader | slackbot | mcp
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    version: str
    config: ServiceConfig
    mount_service_account_token: bool = False
    api_reason: str = ""  # why this service talks to the Kubernetes API (a checkov suppression names it)
    waits_for: tuple[tuple[str, pulumi.Resource], ...] = ()  # (name, resource): not touched until these succeed
    env: tuple[tuple[str, pulumi.Input[str]], ...] = ()  # extra TRADEOPS_* settings of this service
    files: tuple[tuple[str, pulumi.Input[str], str], ...] = ()  # (volume, ConfigMap name, mount path), read-only
    annotations: tuple[tuple[str, str], ...] = ()  # pod template annotations: a change rolls the pods
    single_writer: bool = False  # never two pods at once (Recreate instead of a rolling update)


class TradingService(pulumi.ComponentResource):
    """`tradeops serve <component>` behind a ClusterIP Service, hardened and probed."""

    def __init__(self, name: str, args: TradingServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:apps:TradingService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = common.labels(args.component, args.version)
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=f"tradeops-{args.component}", namespace=args.namespace, labels=labels
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=metadata,
            automount_service_account_token=args.mount_service_account_token,
            opts=child,
        )
        probe = k8s.core.v1.HTTPGetActionArgs
        container = k8s.core.v1.ContainerArgs(
            name=args.component,
            image=args.image,
            image_pull_policy="Always",
            args=["serve", args.component, "--host", "0.0.0.0", "--port", str(common.HTTP_PORT)],  # noqa: S104 - pod IP
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=common.HTTP_PORT)],
            env_from=common.settings_env(),
            env=[
                *common.thread_env(),
                k8s.core.v1.EnvVarArgs(name="TRADEOPS_SERVICE", value=args.component),
                *(k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in args.env),
            ],
            liveness_probe=k8s.core.v1.ProbeArgs(
                http_get=probe(path="/healthz", port="http"), period_seconds=10, failure_threshold=3
            ),
            readiness_probe=k8s.core.v1.ProbeArgs(
                http_get=probe(path="/readyz", port="http"), period_seconds=5, failure_threshold=2
            ),
            startup_probe=k8s.core.v1.ProbeArgs(
                http_get=probe(path="/healthz", port="http"), period_seconds=2, failure_threshold=60
            ),
            resources=common.resources(args.config.resources),
            security_context=common.container_security(),
            volume_mounts=[
                *common.mounts(),
                *(
                    k8s.core.v1.VolumeMountArgs(name=volume, mount_path=path, read_only=True)
                    for volume, _, path in args.files
                ),
            ],
        )
        skip = {"checkov.io/skip1": f"CKV_K8S_38={args.api_reason}"} if args.mount_service_account_token else {}
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"tradeops-{args.component}", namespace=args.namespace, labels=labels, annotations=skip
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.config.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=common.selector(args.component)),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate")
                if args.single_writer
                else k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels,
                        annotations=dict(args.annotations),  # scraped through a ServiceMonitor (monitoring.py)
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=self.service_account.metadata.name,
                        automount_service_account_token=args.mount_service_account_token,
                        security_context=common.pod_security(),
                        init_containers=[common.seed_numba_cache(args.image)],
                        containers=[container],
                        volumes=[
                            *common.volumes(),
                            *(
                                k8s.core.v1.VolumeArgs(
                                    name=volume, config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map)
                                )
                                for volume, config_map, _ in args.files
                            ),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[resource for _, resource in args.waits_for]),
        )
        self.waits_for = args.waits_for
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=metadata,
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=common.selector(args.component),
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=common.HTTP_PORT, target_port="http")],
            ),
            opts=child,
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=metadata,
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=common.selector(args.component))
            ),
            opts=child,
        )
        self.register_outputs({"deployment": self.deployment.metadata.name, "service": self.service.metadata.name})
