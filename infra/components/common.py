"""What every workload shares: labels, the hardened security context, volumes for a read-only root."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from tradeops.kube import THREAD_VARIABLES

PART_OF = "tradeops"
UID = 10001
SECRETS_DIR = "/run/secrets/tradeops"
SECRET_NAME = "tradeops-secrets"  # noqa: S105 - the Secret's name, not a secret
CONFIG_NAME = "tradeops-settings"
HTTP_PORT = 8000


def labels(component: str, version: str) -> dict[str, str]:
    """The four labels every resource carries."""
    return {
        "app.kubernetes.io/name": f"tradeops-{component}",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/version": version,
    }


def selector(component: str) -> dict[str, str]:
    """Labels that select a component's pods (stable across versions)."""
    return {"app.kubernetes.io/name": f"tradeops-{component}", "app.kubernetes.io/part-of": PART_OF}


def pod_security() -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=UID,
        run_as_group=UID,
        fs_group=UID,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=UID,
        privileged=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(spec: Any) -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": spec.cpu_request, "memory": spec.memory_request},
        limits={"cpu": spec.cpu_limit, "memory": spec.memory_limit},
    )


def volumes() -> list[k8s.core.v1.VolumeArgs]:
    """Scratch space (the root filesystem is read-only), settings and secrets as files."""
    return [
        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="1Gi")),
        k8s.core.v1.VolumeArgs(
            name="secrets",
            secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=SECRET_NAME, optional=True, default_mode=0o400),
        ),
    ]


def mounts() -> list[k8s.core.v1.VolumeMountArgs]:
    return [
        k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir, private to the pod
        k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=SECRETS_DIR, read_only=True),
    ]


def thread_env() -> list[k8s.core.v1.EnvVarArgs]:
    """NUMBA_NUM_THREADS and OMP_NUM_THREADS from the container's own CPU limit (whole cores, rounded up)."""
    limit = k8s.core.v1.ResourceFieldSelectorArgs(resource="limits.cpu", divisor="1")
    source = k8s.core.v1.EnvVarSourceArgs(resource_field_ref=limit)
    return [k8s.core.v1.EnvVarArgs(name=name, value_from=source) for name in THREAD_VARIABLES]


def settings_env() -> list[k8s.core.v1.EnvFromSourceArgs]:
    """Non-secret TRADEOPS_* settings from the stack's ConfigMap."""
    return [k8s.core.v1.EnvFromSourceArgs(config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=CONFIG_NAME))]


def seed_numba_cache(image: Any) -> k8s.core.v1.ContainerArgs:
    """Copy the engine compiled at image build time into the writable cache (the root is read-only)."""
    return k8s.core.v1.ContainerArgs(
        name="seed-engine-cache",
        image=image,
        image_pull_policy="Always",
        command=[
            "python",
            "-c",
            "import shutil; shutil.copytree('/opt/numba-cache', '/tmp/numba-cache', dirs_exist_ok=True)",
        ],
        env=thread_env(),
        security_context=container_security(),
        volume_mounts=mounts(),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "500m", "memory": "256Mi"}
        ),
    )


def cron_job(
    resource_name: str,
    *,
    component: str,
    command: list[str],
    schedule: Any,
    namespace: pulumi.Input[str],
    image: pulumi.Input[str],
    version: str,
    parent: pulumi.Resource,
    service_account: pulumi.Input[str] | None = None,
    env: list[k8s.core.v1.EnvVarArgs] | None = None,
    annotations: dict[str, str] | None = None,
) -> k8s.batch.v1.CronJob:
    """A hardened CronJob running `tradeops COMMAND` on `schedule` (an infra.config.Schedule), never overlapping."""
    pod_labels = labels(component, version)
    pod = k8s.core.v1.PodSpecArgs(
        restart_policy="Never",
        service_account_name=service_account,
        automount_service_account_token=service_account is not None,
        security_context=pod_security(),
        containers=[
            k8s.core.v1.ContainerArgs(
                name=component,
                image=image,
                image_pull_policy="Always",
                args=command,
                env=[*thread_env(), *(env or [])],
                env_from=settings_env(),
                resources=resources(schedule.resources),
                security_context=container_security(),
                volume_mounts=mounts(),
            )
        ],
        volumes=volumes(),
    )
    return k8s.batch.v1.CronJob(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"tradeops-{component}", namespace=namespace, labels=pod_labels, annotations=annotations or {}
        ),
        spec=k8s.batch.v1.CronJobSpecArgs(
            schedule=schedule.schedule,
            concurrency_policy="Forbid",
            starting_deadline_seconds=schedule.starting_deadline_seconds,
            successful_jobs_history_limit=3,
            failed_jobs_history_limit=3,
            job_template=k8s.batch.v1.JobTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=pod_labels),
                spec=k8s.batch.v1.JobSpecArgs(
                    backoff_limit=1,
                    active_deadline_seconds=schedule.active_deadline_seconds,
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels=pod_labels), spec=pod
                    ),
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
