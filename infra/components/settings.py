"""StackSettings: the namespace's TRADEOPS_* settings (ConfigMap) and secrets (Secret, from Pulumi secrets)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common
from infra.components.backtest_gate import candidate_hash
from infra.config import SECRET_KEYS, StackConfig


def settings_values(config: StackConfig, version: str) -> dict[str, str]:
    """The non-secret environment every workload gets."""
    values = {
        "TRADEOPS_ENVIRONMENT": config.environment,
        "TRADEOPS_DATA_DIR": "/tmp/tradeops",  # noqa: S108 - an emptyDir, private to the pod
        "TRADEOPS_SECRETS_DIR": common.SECRETS_DIR,
        "TRADEOPS_OBJECT_STORE": f"s3://{config.platform.bucket}/tradeops",
        "TRADEOPS_S3_ENDPOINT_URL": "http://minio:9000",
        "TRADEOPS_GIT_SHA": version,
        "TRADEOPS_NAMESPACE": config.namespace,
        "TRADEOPS_CANDIDATE_HASH": candidate_hash(config.candidate),
        "TRADEOPS_BACKTESTER_URL": f"http://tradeops-backtester:{common.HTTP_PORT}",
        "TRADEOPS_TRADER_URL": f"http://tradeops-trader:{common.HTTP_PORT}",  # the Slack bot's and MCP's halt
        "TRADEOPS_SWEEP_JOB": config.sweeps.model_dump_json(),
        "NUMBA_CACHE_DIR": "/tmp/numba-cache",  # noqa: S108 - seeded from the image by an init container
    }
    optional = {
        "TRADEOPS_SLACK_CHANNEL": config.slack_channel,
        "TRADEOPS_SLACK_WRITERS": ",".join(config.slack_writers),
        "TRADEOPS_MCP_WRITERS": ",".join(config.mcp_writers),
        "TRADEOPS_GIT_REMOTE": config.git_remote,
        "TRADEOPS_GITHUB_REPO": config.github_repo,
    }
    values |= {name: value for name, value in optional.items() if value}
    broker = config.broker
    if broker.kind == "ccxt":  # the key and secret come from the Secret (TRADEOPS_BROKER_API_KEY/_SECRET files)
        values |= {
            "TRADEOPS_BROKER_KIND": broker.kind,
            "TRADEOPS_BROKER_EXCHANGE": broker.exchange,
            "TRADEOPS_BROKER_SANDBOX": str(broker.sandbox).lower(),
            "TRADEOPS_BROKER_SYMBOLS": json.dumps(broker.symbols, sort_keys=True),
            "TRADEOPS_BROKER_ORDER_TYPE": broker.order_type,
            "TRADEOPS_BROKER_RECONCILE_EVERY": str(broker.reconcile_every),
        }
    return values


@dataclass(frozen=True)
class StackSettingsArgs:
    namespace: pulumi.Input[str]
    version: str
    config: StackConfig
    secrets: dict[str, pulumi.Output[str]]  # Pulumi config key -> secret value


class StackSettings(pulumi.ComponentResource):
    """Settings as a ConfigMap, secrets as a Secret mounted as files (never env literals)."""

    def __init__(self, name: str, args: StackSettingsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:config:StackSettings", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = common.labels("settings", args.version)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-settings",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=common.CONFIG_NAME, namespace=args.namespace, labels=labels),
            data=settings_values(args.config, args.version),
            opts=child,
        )
        self.secret = k8s.core.v1.Secret(
            f"{name}-secrets",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=common.SECRET_NAME, namespace=args.namespace, labels=labels),
            type="Opaque",
            string_data={
                f"TRADEOPS_{SECRET_KEYS[key].upper().replace('-', '_')}": value
                for key, value in sorted(args.secrets.items())
            },
            opts=child,
        )
        self.register_outputs({"config_map": self.config_map.metadata.name, "secret": self.secret.metadata.name})
