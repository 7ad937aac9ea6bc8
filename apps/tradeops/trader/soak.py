"""How a paper session has done since a bundle went live: hours soaked, bars traded, divergence from a backtest.

The divergence compares the session's equity, bar by bar from the ledger, with a backtest of the same
bars (checked by the ledger's chained data fingerprint) and reports the largest gap in basis points.
Anything that cannot be measured raises SoakUnavailable naming what is missing: a promotion then waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tradeops.errors import TradeopsError
from tradeops.gate.candidate import Candidate
from tradeops.store.models import TraderEquityRow, TraderSessionRow


class SoakUnavailable(TradeopsError):
    """The soak cannot be judged; the message says what is missing."""


@dataclass(frozen=True)
class SoakEvidence:
    """One session's record since `since`."""

    session_id: str
    hours: float
    bars_since: int  # bars whose time is at or after `since`
    bars: int  # every bar the session traded
    divergence_bps: float
    worst_bar: int | None
    state: str  # running | halted | reducing
    state_reason: str | None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _unreachable(error: SQLAlchemyError) -> SoakUnavailable:
    reason = getattr(error, "orig", None) or error
    return SoakUnavailable(f"the trader's ledger is unreachable: {str(reason).splitlines()[0]}")


def open_ledger(url: str) -> Engine:
    """The source stage's ledger; unreachable is SoakUnavailable (the promotion waits), not a crash."""
    from tradeops.store.database import open_engine

    try:
        return open_engine(url)
    except SQLAlchemyError as error:
        raise _unreachable(error) from None


def _read(engine: Engine, session_id: str) -> tuple[TraderSessionRow, list[TraderEquityRow]]:
    try:
        with Session(engine) as db:
            session = db.get(TraderSessionRow, session_id)
            curve = list(
                db.scalars(
                    select(TraderEquityRow)
                    .where(TraderEquityRow.session_id == session_id)
                    .order_by(TraderEquityRow.bar)
                )
            )
            if session is not None:
                db.expunge(session)
    except SQLAlchemyError as error:
        raise _unreachable(error) from None
    if session is None:
        raise SoakUnavailable(f"no paper session {session_id!r} in the trader's ledger")
    if not curve:
        raise SoakUnavailable(f"paper session {session_id!r} has traded no bar yet")
    return session, curve


def measure_soak(engine: Engine, session_id: str, candidate: Candidate, since: datetime) -> SoakEvidence:
    """The session's soak since `since` and its largest divergence from the backtest of the bars it traded."""
    from tradeops.data import load_bars
    from tradeops.engine import run_backtest
    from tradeops.strategies import get_strategy
    from tradeops.trader.loop import chain

    session, curve = _read(engine, session_id)
    if session.strategy != candidate.strategy or session.params != candidate.strategy_params().model_dump():
        raise SoakUnavailable(
            f"paper session {session_id!r} trades {session.strategy} {session.params}, not the bundle"
        )
    try:
        bars = load_bars(candidate.data)
    except Exception as error:  # noqa: BLE001 - any unreadable data leaves the soak undecided, never passed
        raise SoakUnavailable(f"data {candidate.data!r} unreadable: {error}") from None
    traded = session.last_bar + 1
    if bars.n_bars < traded:
        raise SoakUnavailable(f"data {candidate.data!r} has {bars.n_bars} bars; the session traded {traded}")
    fingerprint = None
    for t in range(traded):
        fingerprint = chain(fingerprint, bars, t)
    if fingerprint != session.data_fingerprint:
        raise SoakUnavailable(f"paper session {session_id!r} traded other bars than {candidate.data!r} holds")
    backtest = run_backtest(
        get_strategy(candidate.strategy), candidate.strategy_params(), bars.head(traded), candidate.execution
    )
    expected = backtest.equity.to_numpy()
    worst, worst_bar = 0.0, None
    for point in curve:
        gap = abs(point.equity - expected[point.bar]) / abs(expected[point.bar]) * 10_000
        if gap > worst:
            worst, worst_bar = gap, point.bar
    start = max(_aware(since), _aware(session.created_at))
    hours = max(0.0, (_aware(session.updated_at) - start).total_seconds() / 3600)
    return SoakEvidence(
        session_id=session_id,
        hours=round(hours, 3),
        bars_since=sum(1 for point in curve if _aware(point.time) >= _aware(since)),
        bars=traded,
        divergence_bps=round(worst, 3),
        worst_bar=worst_bar,
        state=session.state,
        state_reason=session.state_reason,
    )
