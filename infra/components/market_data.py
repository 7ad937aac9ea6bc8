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
        self.cron_job = common.cron_job(
            f"{name}-cron",
            component="market-data",
            command=["data", "sync"],
            schedule=args.job,
            namespace=args.namespace,
            image=args.image,
            version=args.version,
            parent=self,
            env=[k8s.core.v1.EnvVarArgs(name="TRADEOPS_MARKET_DATASETS", value=datasets_env(args.job))],
        )
        self.register_outputs({"cron_job": self.cron_job.metadata.name})
