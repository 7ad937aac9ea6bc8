"""The official Kubernetes client, configured in-cluster or for a given API server."""

from __future__ import annotations

import os
from typing import Any


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
