"""Maintenance: the backup and cleanup CronJobs, and the narrow RBAC cleanup needs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components import common
from infra.config import Schedule


@dataclass(frozen=True)
class MaintenanceArgs:
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    version: str
    backup: Schedule
    cleanup: Schedule


class Maintenance(pulumi.ComponentResource):
    """`tradeops backup create --verify` (a test restore of what it made) and `tradeops cleanup`, never overlapping."""

    def __init__(self, name: str, args: MaintenanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tradeops:ops:Maintenance", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cleanup_labels = common.labels("cleanup", args.version)
        self.cleanup_account = k8s.core.v1.ServiceAccount(
            f"{name}-cleanup-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="tradeops-cleanup", namespace=args.namespace, labels=cleanup_labels
            ),
            automount_service_account_token=False,
            opts=child,
        )
        self.cleanup_role = k8s.rbac.v1.Role(
            f"{name}-cleanup-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="tradeops-cleanup", namespace=args.namespace, labels=cleanup_labels
            ),
            rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=["batch"], resources=["jobs"], verbs=["list", "delete"])],
            opts=child,
        )
        self.cleanup_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-cleanup-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="tradeops-cleanup", namespace=args.namespace, labels=cleanup_labels
            ),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name="tradeops-cleanup"
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name="tradeops-cleanup", namespace=args.namespace)
            ],
            opts=child,
        )
        self.backup = self._cron(
            name,
            "backup",
            ["backup", "create", "--kind", "scheduled", "--verify"],
            args.backup,
            args,
            service_account=None,
        )
        self.cleanup = self._cron(
            name, "cleanup", ["cleanup"], args.cleanup, args, service_account=self.cleanup_account.metadata.name
        )
        self.register_outputs({"backup": self.backup.metadata.name, "cleanup": self.cleanup.metadata.name})

    def _cron(
        self,
        name: str,
        component: str,
        command: list[str],
        schedule: Schedule,
        args: MaintenanceArgs,
        service_account: pulumi.Input[str] | None,
    ) -> k8s.batch.v1.CronJob:
        annotations = {}
        if service_account is not None:
            annotations["checkov.io/skip1"] = (
                "CKV_K8S_38=cleanup deletes finished Jobs through the Kubernetes API; "
                "its Role allows only list and delete of jobs in this namespace"
            )
        return common.cron_job(
            f"{name}-{component}",
            component=component,
            command=command,
            schedule=schedule,
            namespace=args.namespace,
            image=args.image,
            version=args.version,
            parent=self,
            service_account=service_account,
            annotations=annotations,
        )
