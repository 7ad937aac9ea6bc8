"""The market-data CronJob: `tradeops data sync` fetches the stack's datasets into its object store."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common
from infra.config import MarketDataJob


@dataclass(frozen=True)
class MarketDataArgs:
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    version: str
    job: MarketDataJob


def datasets_env(job: MarketDataJob) -> str:
    """The JSON `TRADEOPS_MARKET_DATASETS` holds: what `tradeops data sync` fetches."""
    return json.dumps([source.model_dump(mode="json") for source in job.datasets], separators=(",", ":"))


class MarketData(pulumi.ComponentResource):
    """One CronJob, never overlapping itself; egress only to the object store and the venues (HTTPS)."""

    def __init__(self, name: str, args: MarketDataArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:data:MarketData", name, None, opts)
        labels = common.labels("market-data", args.version)
        pod = k8s.core.v1.PodSpecArgs(
            restart_policy="Never",
            automount_service_account_token=False,
            security_context=common.pod_security(),
            containers=[
                k8s.core.v1.ContainerArgs(
                    name="market-data",
                    image=args.image,
                    image_pull_policy="Always",
                    args=["data", "sync"],
                    env=[k8s.core.v1.EnvVarArgs(name="TRADEOPS_MARKET_DATASETS", value=datasets_env(args.job))],
                    env_from=common.settings_env(),
                    resources=common.resources(args.job.resources),
                    security_context=common.container_security(),
                    volume_mounts=common.mounts(),
                )
            ],
            volumes=common.volumes(),
        )
        self.cron_job = k8s.batch.v1.CronJob(
            f"{name}-cron",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="tradeops-market-data", namespace=args.namespace, labels=labels),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=args.job.schedule,
                concurrency_policy="Forbid",
                starting_deadline_seconds=args.job.starting_deadline_seconds,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.batch.v1.JobSpecArgs(
                        backoff_limit=1,
                        active_deadline_seconds=args.job.active_deadline_seconds,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels), spec=pod
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"cron_job": self.cron_job.metadata.name})
