"""The official Kubernetes client, configured in-cluster or for a given API server."""

from __future__ import annotations

from typing import Any


def batch_api(host: str | None = None) -> Any:
    """A BatchV1Api: in-cluster credentials by default, or an explicit API server (tests, kubectl proxy)."""
    from kubernetes import client, config

    if host is None:
        config.load_incluster_config()
        return client.BatchV1Api(client.ApiClient())
    configuration = client.Configuration()
    configuration.host = host
    return client.BatchV1Api(client.ApiClient(configuration))
