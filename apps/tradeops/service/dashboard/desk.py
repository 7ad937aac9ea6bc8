"""The desk: gate verdicts and releases per stack, the trader with its kill switch, and operations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeops.errors import ConfigError
from tradeops.service.dashboard.common import login_of, render
from tradeops.service.dashboard.session import Sessions, require_csrf
from tradeops.settings import AppSettings

RECENT = 20


def stacks(objects: Any) -> list[str]:
    """Every stack with a stored release or verdict."""
    names = {key.split("/")[1] for prefix in ("releases/", "verdicts/") for key in objects.keys(prefix)}
    return sorted(name for name in names if name)


def desk_view(objects: Any) -> list[dict[str, Any]]:
    """Per stack: its releases (newest first), its gate verdicts, and the rollback command."""
    from tradeops.releases import ReleaseStore, VerdictRecord

    releases = ReleaseStore(objects)
    view = []
    for stack in stacks(objects):
        keys = sorted(objects.keys(f"verdicts/{stack}/"), reverse=True)[:RECENT]
        verdicts = [VerdictRecord.model_validate_json(objects.get(k)) for k in keys if k.endswith(".json")]
        try:
            target = releases.rollback_target(stack).version
        except ConfigError as reason:
            target, why = None, str(reason)
        else:
            why = ""
        view.append(
            {
                "stack": stack,
                "releases": releases.history(stack)[:RECENT],
                "verdicts": verdicts,
                "rollback_command": f"tradeops rollback --stack {stack} --to {target}" if target else None,
                "rollback_target": target,
                "rollback_reason": why,
            }
        )
    return view


def trader_view(engine: Any, session_id: str | None) -> dict[str, Any] | None:
    """The chosen (or newest) session: status, equity curve, recent orders and its audit entries."""
    from tradeops.audit import AuditLog
    from tradeops.store.models import TraderAccountRow, TraderEquityRow, TraderOrderRow, TraderSessionRow
    from tradeops.trader.control import TraderControl

    with Session(engine) as db:
        sessions = db.scalars(select(TraderSessionRow).order_by(TraderSessionRow.updated_at.desc()).limit(50)).all()
        if not sessions:
            return None
        chosen = session_id or next((s.id for s in sessions if s.status == "active"), sessions[0].id)
        curve = db.execute(
            select(TraderEquityRow.time, TraderEquityRow.equity)
            .where(TraderEquityRow.session_id == chosen)
            .order_by(TraderEquityRow.bar.desc())
            .limit(2000)
        ).all()
        orders = db.scalars(
            select(TraderOrderRow)
            .where(TraderOrderRow.session_id == chosen)
            .order_by(TraderOrderRow.created_at.desc(), TraderOrderRow.decided_bar.desc())
            .limit(RECENT)
        ).all()
        accounts = db.scalars(
            select(TraderAccountRow).where(TraderAccountRow.session_id == chosen).order_by(TraderAccountRow.symbol)
        ).all()
        bars = {o.decided_bar for o in orders} | {a.entry_bar for a in accounts if a.position != 0}
        times = dict(
            db.execute(
                select(TraderEquityRow.bar, TraderEquityRow.time).where(
                    TraderEquityRow.session_id == chosen, TraderEquityRow.bar.in_(bars)
                )
            ).all()
        )
        order_rows = [
            {k: getattr(o, k) for k in ("symbol", "intent", "decided_bar", "status", "reason", "price", "size")}
            | {"decided_time": _time(times.get(o.decided_bar)), "fill_time": _time(o.fill_time)}
            for o in orders
        ]
        position_rows = _positions(accounts, times, curve[0][1] if curve else None)
        names = [s.id for s in sessions]
    status = TraderControl(engine).status(chosen).as_dict()
    status["shown_state"] = shown_state(status)
    audit = [e.as_dict() for e in AuditLog(engine).entries(limit=200, action_prefix="trader.") if e.target == chosen]
    return {
        "sessions": names,
        "status": status,
        "equity": {"time": [str(t) for t, _ in reversed(curve)], "value": [v for _, v in reversed(curve)]},
        "orders": order_rows,
        "positions": position_rows,
        "audit": audit[:RECENT],
    }


def _time(value: Any) -> str:
    return "" if value is None else str(value)[:19]


def _positions(accounts: Any, times: dict[int, Any], equity: float | None) -> list[dict[str, Any]]:
    """Each symbol's position with its entry (time, price) and unrealised P&L, marked at the last equity.

    The last equity is every symbol's cash plus its position at the close; a flat symbol's part is its cash, so
    the open positions together are worth equity - the flat symbols' cash, and gain that minus their cash before
    entry. One open position is marked exactly; with several, each shows n/a and the first row carries the sum."""
    opened = [a for a in accounts if a.position != 0]
    total = None
    if equity is not None and opened:
        total = equity - sum(a.cash for a in accounts if a.position == 0) - sum(a.cash_before for a in opened)
    rows = []
    for a in accounts:
        held = a.position != 0
        rows.append(
            {
                "symbol": a.symbol,
                "position": a.position,
                "entry_time": _time(times.get(a.entry_bar)) if held else "",
                "entry_price": a.entry_price if held else None,
                "unrealised": (total if len(opened) == 1 else None) if held else 0.0,
            }
        )
    if len(opened) > 1 and total is not None:
        summed = {"symbol": "all open", "position": None, "entry_time": "", "entry_price": None}
        rows.append(summed | {"unrealised": total})
    return rows


def shown_state(status: dict[str, Any]) -> str:
    """What the page calls the session: its kill-switch state, except that a finished session is `finished`
    while nothing halted it (it runs no more: RUNNING beside "session finished" said two things)."""
    finished = status.get("status") == "finished" and status.get("state") == "running"
    return "finished" if finished else str(status.get("state"))


def operations_view(settings: AppSettings, objects: Any) -> dict[str, Any]:
    """Backups with RPO/RTO and verification, and the last cleanup report."""
    from tradeops.backup import BackupError, BackupRepository

    try:
        repository = BackupRepository(settings.resolved_database_url, objects)
        backups, recovery, backup_error = repository.list_backups()[:RECENT], repository.recovery(), None
    except BackupError as error:
        backups, recovery, backup_error = [], {"rpo_seconds": None, "rto_seconds": None}, str(error)
    reports = sorted(k for k in objects.keys("cleanup/") if k.endswith("/report.md"))
    cleanup = objects.get(reports[-1]).decode() if reports else None
    datasets = sorted({k.split("/")[1] for k in objects.keys("datasets/") if k.count("/") >= 2})
    return {
        "backups": backups,
        "recovery": recovery,
        "backup_error": backup_error,
        "cleanup": cleanup,
        "cleanup_key": reports[-1] if reports else None,
        "datasets": datasets,
    }


def build_router(settings: AppSettings, sessions: Sessions) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)

    @router.get("/gate")
    def gate_page(request: Request) -> HTMLResponse:
        login = login_of(request, sessions)
        gate_runs, _ = request.app.state.store.list_runs(kind="gate", limit=RECENT)
        return render("gate.html.j2", login, stacks=desk_view(request.app.state.objects), gate_runs=gate_runs)

    @router.get("/trader")
    def trader_page(request: Request, session: str | None = None) -> HTMLResponse:
        login = login_of(request, sessions)
        view = _trader(request, session)
        return render("trader.html.j2", login, trader=view)

    @router.get("/trader/state.json")
    def trader_state(request: Request, session: str | None = None) -> JSONResponse:
        login_of(request, sessions)
        return JSONResponse(_trader(request, session), headers={"Cache-Control": "no-store"})

    @router.post("/trader/kill-switch")
    def kill_switch(
        request: Request,
        session: Annotated[str, Form()],
        command: Annotated[str, Form(pattern="^(halt|reduce-only|resume)$")],
        reason: Annotated[str, Form(max_length=500)] = "",
        confirm: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        from tradeops.trader import killswitch
        from tradeops.trader.control import COMMANDS, TraderControl

        login = login_of(request, sessions)
        require_csrf(login, csrf)
        if confirm != command:
            raise HTTPException(422, f"confirm: type {command!r} to confirm")
        control = TraderControl(request.app.state.store.engine)
        try:
            if command == "halt":  # the one kill switch: on a venue the trader service cancels its open orders too
                killswitch.halt(
                    settings, control, actor=login.principal, reason=reason, session_id=session,
                    trader_url=settings.trader_url,
                )  # fmt: skip
            else:
                control.set_state(COMMANDS[command], actor=login.principal, reason=reason, session_id=session)
        except ConfigError as error:
            raise HTTPException(422, str(error)) from None
        return RedirectResponse(f"/ui/trader?session={session}", status_code=303)

    @router.get("/operations")
    def operations_page(request: Request) -> HTMLResponse:
        login = login_of(request, sessions)
        return render("operations.html.j2", login, ops=operations_view(settings, request.app.state.objects))

    return router


def _trader(request: Request, session: str | None) -> dict[str, Any] | None:
    try:
        return trader_view(request.app.state.store.engine, session)
    except ConfigError as error:
        raise HTTPException(404, str(error)) from None
