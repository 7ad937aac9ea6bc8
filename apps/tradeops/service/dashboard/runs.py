"""Runs: the list (filter, sort, select to compare), one run's page, the comparison and the new-run form."""

from __future__ import annotations

import socket
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError

from tradeops.service.dashboard.common import login_of, render
from tradeops.service.dashboard.session import Sessions, require_csrf
from tradeops.service.runner import QueueFull
from tradeops.settings import AppSettings
from tradeops.store import Run, RunStore

SORTS = {
    "created": lambda r: r.created_at.timestamp(),
    "sharpe": lambda r: _metric(r, "sharpe"),
    "return": lambda r: _metric(r, "total_return_pct"),
    "drawdown": lambda r: -_metric(r, "max_drawdown_pct", float("inf")),
}
API_PATHS = {"backtest": "backtests", "sweep": "sweeps", "gate": "gate"}
SHOWN_METRICS = ("total_return_pct", "sharpe", "max_drawdown_pct", "trades")


def _metric(run: Run, name: str, missing: float = float("-inf")) -> float:
    value = (run.metrics or {}).get(name)
    return float(value) if isinstance(value, int | float) else missing


def _store(request: Request) -> RunStore:
    return request.app.state.store


def _curve(run: Run) -> Any:
    from tradeops.cli.runs import equity_of

    return equity_of(run)


def run_figures(run: Run) -> dict[str, Any]:
    """Equity and underwater of a stored backtest, from its stored curve."""
    from tradeops.reports import charts

    curve = _curve(run)
    if curve is None:
        return {}
    return {"equity": charts.equity_figure(curve, None), "underwater": charts.underwater_figure(curve)}


def sweep_points(run: Run, objects: Any) -> tuple[dict[str, Any], list[str], list[list[Any]]]:
    """A stored sweep's heatmap (over its first two varied parameters) and every point, best first."""
    import io

    import pandas as pd

    from tradeops.reports.charts import heatmap_figure

    try:
        table = pd.read_csv(io.BytesIO(objects.get(f"runs/{run.id}/table.csv")))
    except KeyError:
        return {}, [], []
    varied = list((run.request or {}).get("grid") or {})
    metric = (run.result or {}).get("sort_by", "sharpe")
    ranked = table.sort_values(metric, ascending=metric.startswith("max_drawdown"), na_position="last")
    columns = [*varied, *(m for m in (metric, *SHOWN_METRICS) if m not in varied)]
    columns = list(dict.fromkeys(c for c in columns if c in table.columns))
    figures = {"heatmap": heatmap_figure(table, varied[0], varied[1], metric)} if len(varied) >= 2 else {}
    return figures, columns, ranked[columns].to_numpy().tolist()


def build_router(settings: AppSettings, sessions: Sessions) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)

    @router.get("/")
    def runs_page(
        request: Request,
        strategy: str = "",
        kind: Annotated[str, Query(pattern="^(|backtest|sweep|gate)$")] = "",
        status: Annotated[str, Query(pattern="^(|queued|running|done|failed|cancelled)$")] = "",
        sort: Annotated[str, Query(pattern="^(created|sharpe|return|drawdown)$")] = "created",
    ) -> HTMLResponse:
        login = login_of(request, sessions)
        runs, total = _store(request).list_runs(
            kind=kind or None, strategy=strategy or None, status=status or None, limit=200
        )
        runs = sorted(runs, key=SORTS[sort], reverse=True)
        filters = {"strategy": strategy, "kind": kind, "status": status, "sort": sort}
        return render("runs.html.j2", login, runs=runs, total=total, filters=filters, metrics=SHOWN_METRICS)

    @router.get("/runs/{run_id}")
    def run_page(request: Request, run_id: str) -> HTMLResponse:
        from tradeops.reports.embed import charts

        login = login_of(request, sessions)
        run = _store(request).get(run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id}")
        report = f"/v1/{API_PATHS[run.kind]}/{run.id}/report"
        figures, columns, points = run_figures(run), list[str](), list[list[Any]]()
        if run.kind == "sweep" and run.status == "done":
            figures, columns, points = sweep_points(run, request.app.state.objects)
        return render(
            "run.html.j2", login, run=run, charts=charts(figures), report_url=report, columns=columns, points=points
        )

    @router.get("/runs/{run_id}/status.json")
    def run_status(request: Request, run_id: str) -> JSONResponse:
        login_of(request, sessions)
        run = _store(request).get(run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id}")
        return JSONResponse({"id": run.id, "status": run.status, "error": run.error})

    @router.get("/compare")
    def compare_page(request: Request, run: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        from tradeops.cli.runs import COMPARED
        from tradeops.reports.charts import overlay_figure
        from tradeops.reports.embed import charts

        login = login_of(request, sessions)
        asked = list(dict.fromkeys(run or []))[:8]
        found = [r for r in (_store(request).get(i) for i in asked) if r is not None]
        missing = [i for i in asked if i not in {r.id for r in found}]
        curves = {r.id[:8]: c for r in found if (c := _curve(r)) is not None}
        figures = {"overlay": overlay_figure(curves)} if curves else {}
        return render("compare.html.j2", login, runs=found, missing=missing, metrics=COMPARED, charts=charts(figures))

    @router.get("/new")
    def new_page(request: Request) -> HTMLResponse:
        login = login_of(request, sessions)
        return render("new.html.j2", login, **_form_context({}, {}))

    @router.post("/new")
    async def submit(request: Request) -> Response:
        login = login_of(request, sessions)
        form = {k: str(v) for k, v in (await request.form()).items()}
        require_csrf(login, form.get("csrf", ""))
        body, errors = _parse_form(form, settings.market_dir)
        if errors:
            page = render("new.html.j2", login, **_form_context(form, errors))
            page.status_code = 422
            return page
        assert body is not None
        return _enqueue(request, body, login.principal, settings.market_dir)

    return router


def _enqueue(request: Request, body: Any, principal: str, market_dir: Path) -> Response:
    kind = "sweep" if hasattr(body, "grid") else "backtest"
    store = _store(request)
    run = store.create(
        kind=kind,
        strategy=body.strategy,
        params=body.params,
        request=body.model_dump(mode="json") | {"data": _resolve(body.data, market_dir)},
        data_ref=body.data,
        source="ui",
        owner=f"{socket.gethostname()} {principal}",
    )
    try:
        request.app.state.runner.submit(run.id)
    except QueueFull:
        store.fail(run.id, "rejected: queue full")
        raise HTTPException(429, "the queue is full; retry in a few seconds", headers={"Retry-After": "5"}) from None
    return RedirectResponse(f"/ui/runs/{run.id}", status_code=303)


def _resolve(reference: str, market_dir: Path) -> str:
    return reference if reference.startswith("sample:") else str((market_dir / reference).resolve())


def _form_context(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    from tradeops.cli.strategies import describe

    return {"strategies": describe(), "execution": _execution_fields(), "form": form, "errors": errors}


def _execution_fields() -> list[dict[str, Any]]:
    """The execution settings the form asks for: name, default, description, and the choices of an enum."""
    from tradeops.engine.settings import ExecutionSettings

    fields = []
    for name, field in ExecutionSettings.model_fields.items():
        kind = field.annotation
        choices = [member.value for member in kind] if isinstance(kind, type) and issubclass(kind, Enum) else None
        default = field.default.value if isinstance(field.default, Enum) else field.default
        fields.append({"name": name, "default": default, "choices": choices, "description": field.description or ""})
    return fields


def _parse_form(form: dict[str, str], market_dir: Path) -> tuple[Any, dict[str, str]]:
    """The request body the form describes, or the errors per field (the field name -> one line)."""
    from tradeops.service.backtester.schemas import BacktestRequest, SweepRequest

    strategy, data, kind = form.get("strategy", ""), form.get("data", "").strip(), form.get("kind", "backtest")
    errors: dict[str, str] = {}
    if not data.startswith("sample:"):
        target = (market_dir / data).resolve()
        if not data or Path(data).is_absolute() or not target.is_relative_to(market_dir.resolve()):
            errors["data"] = "data must be sample:NAME or a file inside the market data folder"
    execution = _execution_of(form, errors)
    window = {
        name: form[f"window.{name}"].strip() for name in ("start", "end") if form.get(f"window.{name}", "").strip()
    }
    prefix = f"{strategy}."
    params: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    for key, raw in form.items():
        if not key.startswith(prefix) or not raw.strip():
            continue
        name = key[len(prefix) :]
        try:
            values = [_value(v) for v in raw.split(",")]
        except ValueError:
            errors[name] = f"{name}: {raw!r} is not a number"
            continue
        if kind == "sweep" and len(values) > 1:
            grid[name] = values
        else:
            params[name] = values[0]
    if kind == "sweep" and not grid:
        errors["grid"] = "a sweep needs at least one parameter with several values, e.g. 5,10,20"
    if errors:
        return None, errors
    try:
        if kind == "sweep":
            return SweepRequest(
                strategy=strategy, params=params, grid=grid, data=data, execution=execution, window=window or None
            ), {}
        return BacktestRequest(
            strategy=strategy, params=params, data=data, execution=execution, window=window or None
        ), {}
    except ValidationError as error:
        return None, {_field(e): _message(e) for e in error.errors()}


def _execution_of(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The execution settings the form fills in (empty fields keep their defaults); bad numbers into `errors`."""
    execution: dict[str, Any] = {}
    for key, raw in form.items():
        if key.startswith("execution.") and raw.strip():
            name = key.removeprefix("execution.")
            try:
                execution[name] = raw.strip() if name in ("sizing", "direction") else float(raw)
            except ValueError:
                errors[key] = f"{key}: {raw!r} is not a number"
    return execution


def _field(error: Any) -> str:
    location = [str(part) for part in error["loc"]]
    if location[:1] in (["execution"], ["window"]):
        return ".".join(location[:2])
    return location[-1] if location else "params"


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    field = _field(error)
    return f"{field}: {message}" if field.startswith(("execution", "window")) else message


def _value(text: str) -> bool | int | float:
    """A form value: a checkbox's true/false, else a number."""
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    return _number(text)


def _number(text: str) -> int | float:
    value = float(text.strip())
    return int(value) if value.is_integer() and "." not in text else value
