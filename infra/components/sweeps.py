"""SweepJobs: the narrow RBAC that lets the backtester, and only it, run sharded sweeps as Indexed Jobs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common
from tradeops.sweeps.config import SERVICE_ACCOUNT

ROLE = "tradeops-sweeps"
# create a sweep's Job; read it back for `sweep status`; nothing else, and only in the stack's namespace
RULES = (("jobs", ("create", "get", "list")), ("jobs/status", ("get",)))


@dataclass(frozen=True)
class SweepJobsArgs:
    namespace: pulumi.Input[str]
    version: str


class SweepJobs(pulumi.ComponentResource):
    """A namespaced Role to create and read Jobs, bound to the backtester's service account alone."""

    def __init__(self, name: str, args: SweepJobsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:apps:SweepJobs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=ROLE, namespace=args.namespace, labels=common.labels("sweeps", args.version)
        )
        self.role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=metadata,
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=["batch"], resources=[resource], verbs=list(verbs))
                for resource, verbs in RULES
            ],
            opts=child,
        )
        self.binding = k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=metadata,
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=ROLE),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=args.namespace)],
            opts=child,
        )
        self.register_outputs({"role": self.role.metadata.name, "binding": self.binding.metadata.name})
