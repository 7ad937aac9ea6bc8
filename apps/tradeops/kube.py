"""The official Kubernetes client, configured in-cluster or for a given API server."""

from __future__ import annotations

import os
from typing import Any

# Thread pools sized by the container's CPU limit: numba's (prange loops) and OpenMP's (scikit-learn, BLAS)
# otherwise start one thread per node core, and a pod limited to 2 CPUs on a 32-core node is throttled.
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")


def thread_env() -> list[dict[str, Any]]:
    """The container env entries setting THREAD_VARIABLES to its CPU limit in whole cores, rounded up (so at least
    1), through the downward API: a limit changed later is followed without a new manifest."""
    limit = {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1"}}
    return [{"name": name, "valueFrom": limit} for name in THREAD_VARIABLES]


def batch_api(host: str | None = None) -> Any:
    """A BatchV1Api: in-cluster credentials inside a pod, else the kubeconfig (a CI runner, a laptop), or an
    explicit API server (tests, kubectl proxy)."""
    from kubernetes import client, config

    if host is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
        else:
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))
        return client.BatchV1Api(client.ApiClient())
    configuration = client.Configuration()
    configuration.host = host
    return client.BatchV1Api(client.ApiClient(configuration))
