"""`tradeops trader replay|status|audit|reconcile` and the kill switch `tradeops trader halt|reduce-only|resume`."""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tradeops.cli.backtest import metrics_table
from tradeops.cli.options import (
    GIVEN_NONE,
    NO_RISK_GIVEN,
    Actor,
    AsJson,
    Data,
    ExecutionOptions,
    MaxGap,
    Params,
    RiskOptions,
    Strategy,
    emit_json,
    execution_options,
    parse_params,
    plain_console,
    progress_bar,
    risk_options,
)
from tradeops.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(help="Paper-trade through the live loop, and the trader's kill switch.", no_args_is_help=True)
stderr = plain_console(stderr=True)

SessionOpt = Annotated[
    str | None, typer.Option("--session", help="trading session (default: the most recently active one)")
]
Reason = Annotated[str, typer.Option("--reason", help="why; recorded in the audit log")]


def _engine() -> Engine:
    from tradeops.store.database import DatabaseTimeouts, open_engine

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_engine(settings.resolved_database_url, timeouts=DatabaseTimeouts.of(settings))


@app.command("replay")
@execution_options()
@risk_options()
def replay(
    strategy: Strategy,
    data: Data,
    param: Params = None,
    as_json: AsJson = False,
    session: Annotated[
        str | None,
        typer.Option("--session", help="session name (default: derived from the inputs, so a rerun resumes)"),
    ] = None,
    speed: Annotated[float, typer.Option("--speed", min=0, help="bars per second (0 = as fast as possible)")] = 0.0,
    risk: RiskOptions = NO_RISK_GIVEN,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
) -> None:
    """Paper-trade a data set bar by bar through the live loop; print what `backtest run` prints.

    Killed and rerun with the same inputs, it resumes where the ledger stopped. A risk limit not given
    as an option is the environment's (TRADEOPS_TRADER_<LIMIT>, what the trader service reads), else none.
    """
    from tradeops.data import load_bars
    from tradeops.engine import sizing
    from tradeops.engine.result import result_to_dict
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params
    from tradeops.trader.feed import ReplayFeed
    from tradeops.trader.loop import SessionConfig, Trader
    from tradeops.trader.result import session_result

    chosen = get_strategy(strategy)
    params = validate_params(chosen, parse_params(param))
    settings = execution.settings()
    process = load_settings()
    limits = risk.limits(process.trader_risk)
    bars = load_bars(data, max_gap=max_gap)
    settings = sizing.for_bars(settings, bars)  # the market's units, as a backtest of these bars takes them
    identity = json.dumps(
        [strategy, params.model_dump(mode="json"), data, settings.model_dump(mode="json"), limits.model_dump()]
    )
    session_id = session or f"replay-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"
    config = SessionConfig(session_id, chosen, params, data, settings, limits)
    from tradeops.notify import open_notifier
    from tradeops.trader.control import TraderControl

    engine = _engine()
    notifier = open_notifier(process)
    trader = Trader(engine, config, notifier=notifier)
    with progress_bar(transient=as_json) as progress:
        task = progress.add_task(f"session {session_id}", total=bars.n_bars, completed=trader.last_bar + 1)
        shown = [0.0]

        def on_bar(t: int) -> None:  # redrawn at most ten times a second: a redraw costs more than a bar
            now = time.monotonic()
            if now - shown[0] >= 0.1 or t == bars.n_bars - 1:
                progress.update(task, completed=t + 1)
                shown[0] = now

        trader.run(ReplayFeed(bars, speed=speed), on_bar=on_bar)
    trader.finish()
    notifier.close()
    final = TraderControl(engine).status(session_id)
    session_view = {"id": session_id, "state": final.state, "state_reason": final.state_reason, "orders": final.orders}
    payload = result_to_dict(session_result(engine, config, bars)) | {"session": session_view}
    if as_json:
        emit_json(payload)
        return
    Console(emoji=False).print(metrics_table(f"paper session {session_id}: {strategy} on {data}", payload["metrics"]))
    if final.state != "running":
        stderr.print(f"session ended {final.state.upper()}: {final.state_reason}")


@app.command("status")
def status(session: SessionOpt = None, as_json: AsJson = False) -> None:
    """Show a session's state, equity, drawdown, positions and orders."""
    from tradeops.trader.control import TraderControl

    current = TraderControl(_engine()).status(session).as_dict()
    if as_json:
        emit_json(current)
        return
    for name, value in current.items():
        if name != "venue":  # only a halt's answer carries it
            typer.echo(f"{name}: {value}")


def _switch(action: str, reason: str, session: str | None, actor: str | None) -> None:
    from tradeops.trader.control import COMMANDS, TraderControl

    who = _who(actor)
    current = TraderControl(_engine()).set_state(COMMANDS[action], actor=who, reason=reason, session_id=session)
    stderr.print(f"session {current.session} is {current.state.upper()} ({who}: {reason})")


def _who(actor: str | None) -> str:
    """The --actor given (already refused if reserved, by the option), else user@host."""
    return actor if actor is not None else f"{getpass.getuser()}@{socket.gethostname()}"


@app.command("halt")
def halt(
    reason: Reason,
    session: SessionOpt = None,
    actor: Actor = None,
    flatten: Annotated[
        bool, typer.Option("--flatten", help="also close every position with market orders (venue broker only)")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Kill switch: no new orders at all until resumed (audited); on a venue, cancel its open orders too."""
    from tradeops.errors import ConfigError, VenueError
    from tradeops.trader import killswitch
    from tradeops.trader.control import TraderControl

    settings = load_settings()
    if flatten and settings.broker_kind != "ccxt":
        raise ConfigError("--flatten needs the venue broker (TRADEOPS_BROKER_KIND=ccxt); paper positions stay")
    who = _who(actor)
    current = killswitch.halt(
        settings, TraderControl(_engine()), actor=who, reason=reason, session_id=session, flatten=flatten
    )
    report = current.venue
    if as_json:
        emit_json(current.as_dict())
    else:
        stderr.print(f"session {current.session} is HALTED ({who}: {reason})")
        for line in killswitch.venue_lines(report):
            typer.echo(line)
    if report is not None and report["outcome"] != "applied":
        raise VenueError("the venue did not do everything asked: see the lines above and `tradeops trader audit`")


@app.command("reconcile")
def reconcile(
    session: SessionOpt = None,
    as_json: AsJson = False,
    accept_venue: Annotated[
        bool, typer.Option("--accept-venue", help="make the ledger hold what the venue holds (audited; needs --reason)")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="why the venue is right; recorded in the audit log")] = "",
    actor: Actor = None,
) -> None:
    """Compare the venue's balances and open orders with the ledger; exit 1 when they differ."""
    from sqlalchemy.orm import Session

    from tradeops.trader.control import TraderControl
    from tradeops.trader.venue import reconcile as venue_reconcile
    from tradeops.trader.venue.setup import venue_broker

    engine = _engine()
    broker = venue_broker(load_settings())
    with Session(engine) as db:
        session_id = TraderControl(engine).resolve(db, session).id
    if accept_venue:
        found = venue_reconcile.accept_venue(engine, session_id, broker, actor=_who(actor), reason=reason)
    else:
        found = venue_reconcile.reconcile(engine, session_id, broker)
    if as_json:
        emit_json(found.as_dict())
    else:
        for asset, amounts in found.balances.items():
            typer.echo(f"{asset}: ledger expects {amounts['expected']:.8f}, venue holds {amounts['venue']:.8f}")
        for difference in found.differences:
            typer.echo(f"DIFFERENCE {difference.kind} {difference.key}: {difference.note}")
        typer.echo("venue and ledger agree" if found.ok else f"{len(found.differences)} difference(s)")
    if not found.ok:
        raise typer.Exit(1)


@app.command("reduce-only")
def reduce_only(reason: Reason, session: SessionOpt = None, actor: Actor = None) -> None:
    """Kill switch: only orders that reduce exposure until resumed (audited)."""
    _switch("reduce-only", reason, session, actor)


@app.command("resume")
def resume(reason: Reason, session: SessionOpt = None, actor: Actor = None) -> None:
    """Resume normal trading after a halt, a reduce-only or a tripped risk limit (audited)."""
    _switch("resume", reason, session, actor)


@app.command("audit")
def audit(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="how many entries")] = 20,
    as_json: AsJson = False,
) -> None:
    """Show the newest audit entries: who did what, when, and the outcome."""
    from tradeops.audit import AuditLog

    entries = [e.as_dict() for e in AuditLog(_engine()).entries(limit=limit)]
    if as_json:
        emit_json(entries)
        return
    for entry in entries:
        typer.echo(f"{entry['at']}  {entry['actor']}  {entry['action']}  {entry['target']}  {entry['outcome']}")
