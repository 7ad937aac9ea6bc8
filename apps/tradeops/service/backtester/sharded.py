"""`POST /v1/sweeps` with `"shards": N`: the sweep runs as the cluster's Indexed Job, not in this process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request

from tradeops.errors import ConfigError
from tradeops.service.backtester.schemas import Accepted, SweepRequest
from tradeops.settings import AppSettings

if TYPE_CHECKING:
    from tradeops.service.backtester.routes import Once


def submit_sharded(request: Request, body: SweepRequest, data: str, settings: AppSettings, once: Once) -> Accepted:
    """Create the sweep's run and its Indexed Job in this stack's namespace (409 outside a cluster)."""
    from tradeops.kube import batch_api
    from tradeops.sweeps.cluster import KubernetesError, Target, running_image, submit
    from tradeops.sweeps.spec import SweepSpec

    if not settings.namespace:
        raise HTTPException(409, "sharded sweeps run in the cluster: TRADEOPS_NAMESPACE is not set here")
    store, objects = request.app.state.store, request.app.state.objects
    spec = SweepSpec(
        strategy=body.strategy,
        data=data,
        params=body.params,
        grid={name: list(values) for name, values in body.grid.items()},
        settings=body.execution.model_dump(mode="json"),
        sort_by=body.sort_by,
    )
    try:
        image, version = running_image(objects, settings.environment)
    except ConfigError as error:
        raise HTTPException(409, str(error)) from None
    target = Target(namespace=settings.namespace, image=image, version=version, config=settings.sweep_job)
    request_body: dict[str, Any] = body.model_dump(mode="json")
    data_ref = data if data.startswith("dataset:") else body.data  # NAME@VERSION; a server path stays private
    run = store.create(
        kind="sweep",
        strategy=body.strategy,
        params=body.params,
        request=request_body,
        data_ref=data_ref,
        source="api",
        idempotency_key=once.key,
        body_hash=once.body_hash,
        running=True,  # never queued: the API's own runner must not take it
    )
    try:
        submit(objects, batch_api(settings.kubernetes_host), run.id, spec, body.shards or 1, target)
    except ConfigError as error:
        store.fail(run.id, str(error))
        raise HTTPException(422, str(error)) from None
    except KubernetesError as error:  # the API server refused or is unreachable: the run fails, the caller is told
        store.fail(run.id, str(error))
        raise HTTPException(502, str(error)) from None
    return Accepted(id=run.id, status="running", url=f"/v1/sweeps/{run.id}")
