"""Routes under /v1/: create, read, list and cancel runs of each kind; strategies; reports."""

from __future__ import annotations

import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BeforeValidator

from tradeops.errors import DataError
from tradeops.service.auth import token_guard
from tradeops.service.backtester.schemas import (
    Accepted,
    BacktestRequest,
    GateRequest,
    RunPage,
    RunSummary,
    RunView,
    StrategyInfo,
    SweepRequest,
)
from tradeops.service.backtester.sharded import submit_sharded
from tradeops.service.runner import ASSETS_PREFIX, JobRunner, QueueFull
from tradeops.settings import AppSettings
from tradeops.store import ObjectStore, Run, RunStore
from tradeops.store.runs import CommitDeadlinePassed, IdempotencyConflict, request_hash
from tradeops.strategies import STRATEGIES

KINDS = {"backtests": "backtest", "sweeps": "sweep", "gate": "gate"}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="a key of the client's choosing (e.g. a UUID): a retry with the same key and body returns the "
        "run the first call created instead of a new one; the same key with another body is refused (422)",
    ),
]


class Once:
    """A POST's Idempotency-Key and the hash of the body it binds (both None without a key)."""

    def __init__(self, key: str | None, kind: str, body: Any) -> None:
        self.key = key
        self.body_hash = request_hash(kind, body.model_dump(mode="json")) if key is not None else None

    def earlier(self, store: RunStore, response: Response) -> Run | None:
        """The run this key created before (the answer says it is a replay), or None."""
        if self.key is None:
            return None
        try:
            run = store.by_idempotency_key(self.key, self.body_hash)
        except IdempotencyConflict as error:
            raise conflict(error) from None
        if run is not None:
            response.headers["Idempotent-Replayed"] = "true"
        return run


def conflict(error: IdempotencyConflict) -> HTTPException:
    return HTTPException(422, [{"loc": ["header", "Idempotency-Key"], "msg": str(error), "type": "value_error"}])


def iso_time_only(value: Any) -> Any:
    """Refuse a bare number where a time is expected (pydantic would read `0.5` as a Unix time)."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("a time must be ISO 8601, e.g. 2026-01-31T00:00:00Z, not a number")
    return value


def summary(run: Run, base: str) -> RunSummary:
    """A run without its full result, as lists show it."""
    return RunSummary.model_validate(_fields(run, base))


def view(run: Run, base: str) -> RunView:
    """A run with its full result."""
    return RunView.model_validate(_fields(run, base) | {"result": run.result})


def _fields(run: Run, base: str) -> dict[str, Any]:
    fields = {name: getattr(run, name) for name in RunSummary.model_fields if hasattr(run, name)}
    return fields | {"data": run.data_ref, "report_url": f"{base}/{run.id}/report" if run.report_key else None}


def build_router(settings: AppSettings) -> APIRouter:  # noqa: C901 - one closure per route
    router = APIRouter(prefix="/v1")
    limits = settings.limits

    def store(request: Request) -> RunStore:
        return request.app.state.store

    def runner(request: Request) -> JobRunner:
        return request.app.state.runner

    def objects(request: Request) -> ObjectStore:
        return request.app.state.objects

    authorised = token_guard(settings)

    def resolve_data(request: Request, reference: str) -> str:
        """Return what the worker loads: a sample, a pinned dataset version, or the absolute path of a market file.

        `dataset:NAME` becomes `dataset:NAME@VERSION` here, at submission: the run reads that version
        however long it waits in the queue, and its result records it.
        """
        if reference.startswith("sample:"):
            return reference
        if reference.startswith("dataset:"):
            from tradeops.data.pinning import pin
            from tradeops.store.objects import ObjectStoreError

            try:
                return pin(reference, objects(request)).reference
            except DataError as error:
                raise HTTPException(
                    422, [{"loc": ["body", "data"], "msg": str(error), "type": "value_error"}]
                ) from None
            except ObjectStoreError as error:
                raise HTTPException(503, f"{error}; retry later", headers={"Retry-After": "5"}) from None
        target = (settings.market_dir / reference).resolve()
        if Path(reference).is_absolute() or not target.is_relative_to(settings.market_dir):
            raise HTTPException(
                422,
                [
                    {
                        "loc": ["body", "data"],
                        "msg": "data must be sample:NAME, dataset:NAME[@VERSION] "
                        "or a file inside the market data folder",
                        "type": "value_error",
                    }
                ],
            )
        return str(target)

    def enqueue(request: Request, response: Response, kind: str, path: str, body: Any, key: str | None) -> Accepted:
        # a write still open at half the request's deadline is rolled back: a client told 503 has no run
        commit_by = time.monotonic() + settings.request_timeout_seconds / 2
        once = Once(key, kind, body)
        earlier = once.earlier(store(request), response)
        if earlier is not None:
            return Accepted(id=earlier.id, status=earlier.status, url=f"/v1/{path}/{earlier.id}")
        data = resolve_data(request, body.data)
        payload = body.model_dump(mode="json") | {"data": data, "max_bars": limits.max_bars}
        try:
            with runner(request).reserved() as submit:  # a full queue is refused before a row is written
                run = store(request).create(
                    kind=kind,
                    strategy=body.strategy,
                    params=body.params,
                    request=payload,
                    data_ref=data if data.startswith("dataset:") else body.data,  # a file's server path stays private
                    owner=socket.gethostname(),
                    idempotency_key=once.key,
                    body_hash=once.body_hash,
                    commit_by=commit_by,
                )
                submit(run.id)
        except QueueFull as error:
            raise HTTPException(429, f"queue full ({error}); retry later", headers={"Retry-After": "5"}) from None
        except CommitDeadlinePassed as error:
            raise HTTPException(503, f"{error}; retry later", headers={"Retry-After": "5"}) from None
        except IdempotencyConflict as error:  # the same key with another body, sent at the same moment
            raise conflict(error) from None
        return Accepted(id=run.id, status=run.status, url=f"/v1/{path}/{run.id}")

    def fetch(request: Request, kind: str, run_id: str) -> Run:
        run = store(request).get(run_id)
        if run is None or run.kind != kind:
            raise HTTPException(404, f"no {kind} run {run_id}")
        return run

    mutating = [Depends(authorised)]
    responses: dict[int | str, dict[str, Any]] = {
        401: {"description": "missing or wrong bearer token"},
        422: {"description": "invalid body, or an Idempotency-Key already used with another body"},
        429: {"description": "queue full; see Retry-After"},
    }

    @router.post("/backtests", status_code=202, dependencies=mutating, responses=responses, tags=["backtests"])
    def create_backtest(
        request: Request, response: Response, body: BacktestRequest, idempotency_key: IdempotencyKey = None
    ) -> Accepted:
        """Queue one backtest (with `thresholds`, the gate's checks too)."""
        return enqueue(request, response, "backtest", "backtests", body, idempotency_key)

    @router.post("/sweeps", status_code=202, dependencies=mutating, responses=responses, tags=["sweeps"])
    def create_sweep(
        request: Request, response: Response, body: SweepRequest, idempotency_key: IdempotencyKey = None
    ) -> Accepted:
        """Queue a parameter grid; with `shards`, submit it as the cluster's Indexed Job of that many pods."""
        if body.shards is not None:
            once = Once(idempotency_key, "sweep", body)
            earlier = once.earlier(store(request), response)
            if earlier is not None:
                return Accepted(id=earlier.id, status=earlier.status, url=f"/v1/sweeps/{earlier.id}")
            return submit_sharded(request, body, resolve_data(request, body.data), settings, once)
        return enqueue(request, response, "sweep", "sweeps", body, idempotency_key)

    @router.post("/gate", status_code=202, dependencies=mutating, responses=responses, tags=["gate"])
    def create_gate(
        request: Request, response: Response, body: GateRequest, idempotency_key: IdempotencyKey = None
    ) -> Accepted:
        """Queue a gate verdict for a candidate."""
        return enqueue(request, response, "gate", "gate", body, idempotency_key)

    for path, kind in KINDS.items():
        _add_read_routes(router, path, kind, fetch, store, runner, objects, mutating)

    @router.get("/strategies", tags=["strategies"])
    async def strategies() -> list[StrategyInfo]:  # no I/O: on the loop, so it answers while threads are busy
        """Every strategy with the JSON Schema of its parameters."""
        return [
            StrategyInfo(name=s.name, description=s.description, params_schema=s.Params.model_json_schema())
            for s in STRATEGIES.values()
        ]

    @router.get(
        "/assets/{name}",
        tags=["reports"],
        response_class=Response,
        responses={200: {"content": {"text/javascript": {}}}, 404: {"description": "no such asset"}},
    )
    def asset(request: Request, name: str) -> Response:
        """The plotly bundle stored reports load, under its content-hashed name (cached for good); a bundle an
        older release's reports name is read from the object store, where the runner kept it."""
        from tradeops.reports.embed import plotly_asset

        current, data = plotly_asset()
        if name != current:
            if not name.startswith("plotly-") or not name.endswith(".min.js") or "/" in name:
                raise HTTPException(404, f"no asset {name}")
            try:
                data = objects(request).get(f"{ASSETS_PREFIX}{name}")
            except KeyError:
                raise HTTPException(404, f"no asset {name}") from None
        return Response(data, media_type="text/javascript", headers={"Cache-Control": IMMUTABLE})

    return router


IMMUTABLE = "public, max-age=31536000, immutable"  # a content-hashed name: the same name never means other bytes


def _add_read_routes(
    router: APIRouter, path: str, kind: str, fetch: Any, store: Any, runner: Any, objects: Any, mutating: list[Any]
) -> None:
    base = f"/v1/{path}"

    @router.get(f"/{path}/{{run_id}}", tags=[path], name=f"get_{kind}", responses={404: {"description": "unknown id"}})
    def get_run(request: Request, run_id: str) -> RunView:
        return view(fetch(request, kind, run_id), base)

    @router.get(f"/{path}", tags=[path], name=f"list_{kind}")
    def list_runs(
        request: Request,
        strategy: str | None = None,
        status: Annotated[str | None, Query(pattern="^(queued|running|done|failed|cancelled)$")] = None,
        since: Annotated[
            datetime | None,
            Query(description="ISO 8601 time, e.g. 2026-01-31T00:00:00Z (numbers are refused)"),
            BeforeValidator(iso_time_only),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    ) -> RunPage:
        runs, total = store(request).list_runs(
            kind=kind, strategy=strategy, status=status, since=since, limit=limit, offset=offset
        )
        return RunPage(items=[summary(r, base) for r in runs], total=total, limit=limit, offset=offset)

    @router.delete(
        f"/{path}/{{run_id}}",
        tags=[path],
        name=f"cancel_{kind}",
        dependencies=mutating,
        responses={
            401: {"description": "missing or wrong bearer token"},
            404: {"description": "unknown id"},
            409: {"description": "already finished"},
        },
    )
    def cancel_run(request: Request, run_id: str) -> RunView:
        run = fetch(request, kind, run_id)
        if not runner(request).cancel(run.id):
            raise HTTPException(409, f"run {run_id} already {run.status}")
        return view(fetch(request, kind, run_id), base)

    @router.get(
        f"/{path}/{{run_id}}/report",
        tags=[path],
        name=f"report_{kind}",
        response_class=Response,
        responses={404: {"description": "no report (yet)"}},
    )
    def report(request: Request, run_id: str) -> Response:
        run = fetch(request, kind, run_id)
        if not run.report_key:
            raise HTTPException(404, f"run {run_id} has no report ({run.status})")
        try:
            return Response(objects(request).get(run.report_key), media_type="text/html")
        except KeyError:
            raise HTTPException(404, f"the report of run {run_id} is no longer in the object store") from None
