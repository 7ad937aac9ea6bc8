"""Declare the whole stack from a validated StackConfig. `__main__.py` only reads config and calls this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common
from infra.components.backtest_gate import CANDIDATE_PATH, BacktestGate, BacktestGateArgs
from infra.components.image import AppImage, AppImageArgs
from infra.components.maintenance import Maintenance, MaintenanceArgs
from infra.components.market_data import MarketData, MarketDataArgs
from infra.components.monitoring import ServiceMonitors, ServiceMonitorsArgs
from infra.components.network import Network, NetworkArgs
from infra.components.platform import PlatformArgs, PlatformReleases
from infra.components.settings import StackSettings, StackSettingsArgs
from infra.components.sweeps import SweepJobs, SweepJobsArgs
from infra.components.trading_service import TradingService, TradingServiceArgs
from infra.config import (
    REQUIRED_SECRETS,
    SECRET_KEYS,
    BundleInputs,
    StackConfig,
    broker_secrets,
    parse_bundle_id,
    parse_bundle_inputs,
    parse_stack_config,
)
from tradeops.settings import flat_variable


@dataclass
class Stack:
    """Every component, reachable for tests and the system map, and the config they came from."""

    config: StackConfig
    namespace: k8s.core.v1.Namespace
    image: AppImage
    settings: StackSettings
    platform: PlatformReleases
    network: Network
    gate: BacktestGate
    backtester: TradingService
    trader: TradingService
    slackbot: TradingService
    mcp: TradingService
    maintenance: Maintenance
    sweeps: SweepJobs
    monitors: ServiceMonitors
    market_data: MarketData | None = None


def trader_env(config: StackConfig, candidate_hash: str) -> tuple[tuple[str, str], ...]:
    """The trader trades the gated candidate in a session named after it, within the stack's risk limits."""
    limits = {  # a limit left at its default is the trader's default too
        flat_variable("trader_risk", name): str(value)
        for name, value in config.risk.model_dump(exclude_defaults=True).items()
    }
    return (
        ("TRADEOPS_TRADER_CANDIDATE", f"{CANDIDATE_PATH}/candidate.yaml"),
        ("TRADEOPS_TRADER_SESSION", f"{config.namespace}-{candidate_hash[:12]}"),
        *sorted(limits.items()),
    )


def declare(
    config: StackConfig,
    version: str,
    secrets: dict[str, pulumi.Output[str]],
    bundle: BundleInputs | None = None,
    bundle_id: str | None = None,
) -> Stack:
    """Declare every resource; the trader waits for the gate Job (a failed gate stops the update).

    With `bundle.image` set (a promotion) the image is that digest and nothing is built; with `bundle_id` (a
    stored bundle the deploy checked) the gate Job's pod template carries that id as given."""
    namespace = k8s.core.v1.Namespace(
        "namespace",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=config.namespace,
            labels={**common.labels("namespace", version), "pod-security.kubernetes.io/enforce": "restricted"},
        ),
    )
    ns = namespace.metadata.name
    image = AppImage("app", AppImageArgs(config=config.image, version=version, pinned=bundle.image if bundle else None))
    settings = StackSettings("stack", StackSettingsArgs(namespace=ns, version=version, config=config, secrets=secrets))
    platform = PlatformReleases("platform", PlatformArgs(namespace=ns, config=config.platform))
    network = Network("network", NetworkArgs(namespace=ns, version=version))
    after_settings = pulumi.ResourceOptions(depends_on=[settings, platform])
    gate = BacktestGate(
        "gate",
        BacktestGateArgs(
            namespace=ns,
            image=image.reference,
            version=version,
            candidate=config.candidate,
            timeout_seconds=config.gate_timeout_seconds,
            stack=config,
            bundle=bundle,
            bundle_id=bundle_id,
        ),
        opts=after_settings,
    )

    def service(
        component: str, waits_for: tuple[tuple[str, pulumi.Resource], ...] = (), **extra: Any
    ) -> TradingService:
        return TradingService(
            component,
            TradingServiceArgs(
                component=component,
                namespace=ns,
                image=image.reference,
                version=version,
                config=getattr(config.services, component),
                waits_for=waits_for,
                **extra,
            ),
            opts=after_settings,
        )

    backtester = service(
        "backtester",
        mount_service_account_token=True,
        api_reason="the backtester creates and reads sweep Indexed Jobs; its Role (tradeops-sweeps) allows only "
        "create/get/list of jobs in this namespace",
    )
    sweeps = SweepJobs("sweeps", SweepJobsArgs(namespace=ns, version=version), opts=after_settings)
    trader = service(  # a failing gate fails the update before the trader changes
        "trader",
        waits_for=(("gate", gate.job),),
        env=trader_env(config, gate.candidate_hash),
        files=(("candidate", gate.config_map.metadata.name, CANDIDATE_PATH),),
        annotations=(("tradeops.io/candidate-hash", gate.candidate_hash),),
        single_writer=True,
    )
    slackbot = service("slackbot")
    mcp = service("mcp")  # AI assistants: the same reads, gate and propose-as-PR path as the slackbot
    monitors = ServiceMonitors(  # what Prometheus scrapes; the platform installs the ServiceMonitor CRD first
        "monitors",
        ServiceMonitorsArgs(namespace=ns, version=version, components=("backtester", "trader", "slackbot", "mcp")),
        opts=pulumi.ResourceOptions(depends_on=[platform]),
    )
    maintenance = Maintenance(
        "maintenance",
        MaintenanceArgs(
            namespace=ns, image=image.reference, version=version, backup=config.backup, cleanup=config.cleanup
        ),
        opts=after_settings,
    )
    market_data = None
    if config.market_data.datasets:
        market_data = MarketData(
            "market-data",
            MarketDataArgs(namespace=ns, image=image.reference, version=version, job=config.market_data),
            opts=after_settings,
        )
    pulumi.export("namespace", ns)
    pulumi.export("version", version)
    pulumi.export("image", image.reference)
    pulumi.export("gate_job", gate.job.metadata.name)
    pulumi.export("candidate_hash", gate.candidate_hash)
    return Stack(
        config,
        namespace,
        image,
        settings,
        platform,
        network,
        gate,
        backtester,
        trader,
        slackbot,
        mcp,
        maintenance,
        sweeps,
        monitors,
        market_data,
    )


def declare_from_pulumi_config() -> Stack:
    """Read `tradeops:*` config (validated before anything is declared) and declare the stack."""
    config = pulumi.Config("tradeops")
    version = config.get("version") or "dev"
    stack_config = parse_stack_config(config.get_object("settings"), version)
    secrets = {key: config.require_secret(key) for key in (*REQUIRED_SECRETS, *broker_secrets(stack_config))}
    secrets |= {
        key: value for key in SECRET_KEYS if key not in secrets and (value := config.get_secret(key)) is not None
    }
    bundle, bundle_id = parse_bundle_inputs(config.get_object("bundle")), parse_bundle_id(config.get("bundleId"))
    return declare(stack_config, version, secrets, bundle, bundle_id)
