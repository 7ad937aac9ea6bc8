"""NetworkPolicies: deny everything, then allow exactly the flows the system map shows."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common

# (from, to, port): who may open a connection to whom. "world" is outside the cluster.
FLOWS: tuple[tuple[str, str, int], ...] = (
    ("world", "slackbot", common.HTTP_PORT),
    ("world", "mcp", common.HTTP_PORT),
    ("monitoring", "backtester", common.HTTP_PORT),
    ("monitoring", "trader", common.HTTP_PORT),
    ("monitoring", "slackbot", common.HTTP_PORT),
    ("monitoring", "mcp", common.HTTP_PORT),
    ("slackbot", "backtester", common.HTTP_PORT),
    ("slackbot", "trader", common.HTTP_PORT),
    ("mcp", "backtester", common.HTTP_PORT),
    ("mcp", "trader", common.HTTP_PORT),
    ("backtester", "postgresql", 5432),
    ("trader", "postgresql", 5432),
    ("slackbot", "postgresql", 5432),
    ("mcp", "postgresql", 5432),
    ("backup", "postgresql", 5432),
    ("cleanup", "postgresql", 5432),
    ("gate", "postgresql", 5432),  # the gate Job records the stack candidate's verdict
    ("backtester", "minio", 9000),
    ("slackbot", "minio", 9000),
    ("mcp", "minio", 9000),
    ("backup", "minio", 9000),
    ("cleanup", "minio", 9000),
    ("gate", "minio", 9000),
    ("trader", "minio", 9000),
    ("market-data", "minio", 9000),
    ("market-data", "exchange", 443),
    ("trader", "broker", 443),
    ("slackbot", "slack", 443),
    ("slackbot", "github", 443),
    ("mcp", "github", 443),
    ("backtester", "slack", 443),
    ("backup", "slack", 443),
    ("cleanup", "slack", 443),
    ("cleanup", "kubernetes-api", 443),
    ("backtester", "kubernetes-api", 443),
    ("sweep", "minio", 9000),
)
EXTERNAL = {"world", "broker", "slack", "github", "kubernetes-api", "exchange"}
PLATFORM = {"postgresql": "postgresql", "minio": "minio"}  # component -> app.kubernetes.io/name of the chart's pods
PUBLIC_INTERNET = k8s.networking.v1.IPBlockArgs(
    cidr="0.0.0.0/0", except_=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
)


def _pods(component: str) -> k8s.meta.v1.LabelSelectorArgs:
    if component in PLATFORM:
        return k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": PLATFORM[component]})
    return k8s.meta.v1.LabelSelectorArgs(match_labels=common.selector(component))


def _peer(component: str) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    if component in EXTERNAL:
        return k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=PUBLIC_INTERNET)
    if component == "monitoring":
        return k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": "monitoring"})
        )
    return k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=_pods(component))


@dataclass(frozen=True)
class NetworkArgs:
    namespace: pulumi.Input[str]
    version: str


class Network(pulumi.ComponentResource):
    """A default-deny policy, DNS for everyone, and one ingress and one egress policy per allowed flow."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:net:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = common.labels("network", args.version)

        def policy(suffix: str, spec: k8s.networking.v1.NetworkPolicySpecArgs) -> k8s.networking.v1.NetworkPolicy:
            return k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"tradeops-{suffix}", namespace=args.namespace, labels=labels),
                spec=spec,
                opts=child,
            )

        self.policies = [
            policy(
                "default-deny",
                k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
                ),
            ),
            policy(
                "allow-dns",
                k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                    policy_types=["Egress"],
                    egress=[
                        k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                            to=[
                                k8s.networking.v1.NetworkPolicyPeerArgs(
                                    namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                        match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                    )
                                )
                            ],
                            ports=[
                                k8s.networking.v1.NetworkPolicyPortArgs(protocol=p, port=53) for p in ("UDP", "TCP")
                            ],
                        )
                    ],
                ),
            ),
        ]
        for source, target, port in FLOWS:
            ports = [k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=port)]
            if target not in EXTERNAL:
                self.policies.append(
                    policy(
                        f"{target}-from-{source}",
                        k8s.networking.v1.NetworkPolicySpecArgs(
                            pod_selector=_pods(target),
                            policy_types=["Ingress"],
                            ingress=[
                                k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[_peer(source)], ports=ports)
                            ],
                        ),
                    )
                )
            if source not in EXTERNAL and source != "monitoring":
                self.policies.append(
                    policy(
                        f"{source}-to-{target}",
                        k8s.networking.v1.NetworkPolicySpecArgs(
                            pod_selector=_pods(source),
                            policy_types=["Egress"],
                            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=[_peer(target)], ports=ports)],
                        ),
                    )
                )
        self.register_outputs({"policies": len(self.policies)})
