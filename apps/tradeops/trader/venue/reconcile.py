"""Reconciliation: the venue's balances and open orders against the ledger.

The ledger knows what the session holds (each symbol's position in its base asset, the accounts'
cash in the quote asset). The venue's account may hold more (other money in the same account), so
the session's first reconciliation records a baseline in the audit log (`venue.baseline`: venue
minus ledger); every later one expects baseline + ledger. Orders open at the venue between bars are
never the session's own (the broker settles each order within its bar), so each is a difference:
reported, never adopted, never cancelled here. `accept_venue` writes an audited correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradeops import audit
from tradeops.errors import ConfigError
from tradeops.store.models import AuditRow, TraderAccountRow, TraderOrderRow, TraderSessionRow
from tradeops.trader.control import IN_FLIGHT, lock_session

BASELINE, CORRECTION = "venue.baseline", "venue.correction"
TOLERANCE = 1e-8  # absolute, plus 1e-9 of the amount: float arithmetic on fills, not money


@dataclass(frozen=True)
class VenueSnapshot:
    """What the venue reports: total balance per asset, and its open orders."""

    balances: dict[str, float]
    open_orders: list[dict[str, Any]]  # client_id, symbol, side, amount, filled


class Venue(Protocol):
    """The part of a venue broker reconciliation needs."""

    def assets(self, symbols: list[str]) -> dict[str, tuple[str, str]]: ...
    def snapshot(self, symbols: list[str], *, extra: Sequence[str] = ()) -> VenueSnapshot: ...


@dataclass(frozen=True)
class Difference:
    """One disagreement: a balance (`asset`) or an order open at the venue (`client_id`)."""

    kind: str  # balance | open_order | short_funds
    key: str
    ledger: float | None
    venue: float | None
    note: str


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of one comparison; `ok` when there is no difference."""

    session: str
    checked_at: datetime
    balances: dict[str, dict[str, float]]  # asset -> expected, venue
    open_orders: list[dict[str, Any]]
    differences: list[Difference] = field(default_factory=list)
    baseline_recorded: bool = False

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "checked_at": self.checked_at.isoformat(),
            "ok": self.ok,
            "balances": self.balances,
            "open_orders": self.open_orders,
            "differences": [asdict(d) for d in self.differences],
            "baseline_recorded": self.baseline_recorded,
        }


def holdings(
    accounts: list[TraderAccountRow], assets: dict[str, tuple[str, str]], fees: dict[str, float] | None = None
) -> dict[str, float]:
    """What the ledger says the session holds, per venue asset: each market's base and quote, less the fees the
    venue charged in other assets (BNB: what the session took from the account's other money)."""
    held: dict[str, float] = {}
    for account in accounts:
        base, quote = assets[account.symbol]
        held[base] = held.get(base, 0.0) + account.position
        held[quote] = held.get(quote, 0.0) + account.cash
    for asset, amount in (fees or {}).items():
        held[asset] = held.get(asset, 0.0) - amount
    return held


def other_fees(db: Session, session_id: str) -> dict[str, float]:
    """The fees the session's filled orders paid in assets other than their market's, per asset."""
    spent: dict[str, float] = {}
    for fees in db.scalars(
        select(TraderOrderRow.other_fees).where(
            TraderOrderRow.session_id == session_id, TraderOrderRow.other_fees.is_not(None)
        )
    ):
        for asset, amount in (fees or {}).items():
            spent[asset] = spent.get(asset, 0.0) + float(amount)
    return spent


def baseline(db: Session, session_id: str) -> dict[str, float] | None:
    """The venue's holdings beside the session's, as last recorded (None before the first reconciliation)."""
    row = db.scalars(
        select(AuditRow)
        .where(AuditRow.target == session_id, AuditRow.action == BASELINE)
        .order_by(AuditRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else {k: float(v) for k, v in row.detail["baseline"].items()}


def _accounts(db: Session, session_id: str) -> list[TraderAccountRow]:
    return list(db.scalars(select(TraderAccountRow).where(TraderAccountRow.session_id == session_id)))


def reconcile(engine: Engine, session_id: str, venue: Venue, *, record_baseline: bool = False) -> Reconciliation:
    """Compare the venue with the ledger; the first time (with `record_baseline`) record the baseline."""
    with Session(engine) as db, db.begin():
        return _reconcile_in(db, session_id, venue, record_baseline=record_baseline)[0]


def _reconcile_in(
    db: Session, session_id: str, venue: Venue, *, record_baseline: bool
) -> tuple[Reconciliation, list[TraderAccountRow], dict[str, tuple[str, str]]]:
    row = db.get(TraderSessionRow, session_id)
    if row is None:
        raise ConfigError(f"no trading session {session_id!r}")
    accounts = _accounts(db, session_id)
    if not accounts:
        raise ConfigError(f"trading session {session_id!r} has not traded a bar yet: nothing to reconcile")
    assets = venue.assets([a.symbol for a in accounts])
    fees = other_fees(db, session_id)
    snapshot = venue.snapshot([a.symbol for a in accounts], extra=sorted(fees))
    held = holdings(accounts, assets, fees)
    base = baseline(db, session_id)
    recorded = False
    if base is None:  # every asset the account holds: a fee asset the session touches later is in it already
        base = {
            asset: snapshot.balances.get(asset, 0.0) - held.get(asset, 0.0)
            for asset in held.keys() | snapshot.balances.keys()
        }
        if not record_baseline:
            raise ConfigError(f"trading session {session_id!r} has no venue baseline yet (the trader records it)")
        audit.record(
            db, actor=audit.RISK_ENGINE, action=BASELINE, target=session_id, outcome="recorded",
            detail={"baseline": base, "venue": snapshot.balances, "ledger": held},
        )  # fmt: skip
        recorded = True
    return _compare(session_id, held, base, snapshot, recorded), accounts, assets


def _compare(
    session_id: str, held: dict[str, float], base: dict[str, float], snapshot: VenueSnapshot, recorded: bool
) -> Reconciliation:
    balances, differences = {}, []
    for asset, amount in sorted(held.items()):
        expected = base.get(asset, 0.0) + amount
        actual = snapshot.balances.get(asset, 0.0)
        balances[asset] = {"expected": expected, "venue": actual}
        if base.get(asset, 0.0) < -TOLERANCE:
            differences.append(
                Difference("short_funds", asset, amount, actual, f"the venue holds less {asset} than the ledger says")
            )
        elif abs(actual - expected) > TOLERANCE + 1e-9 * abs(expected):
            differences.append(Difference("balance", asset, expected, actual, f"{asset}: venue minus ledger"))
    for order in snapshot.open_orders:
        differences.append(
            Difference(
                "open_order",
                str(order["client_id"]),
                None,
                float(order["amount"]),
                f"open at the venue ({order['symbol']} {order['side']}), unknown to the ledger: "
                "not adopted, not cancelled; cancel or explain it at the venue",
            )
        )
    return Reconciliation(session_id, datetime.now(UTC), balances, snapshot.open_orders, differences, recorded)


def accept_venue(engine: Engine, session_id: str, venue: Venue, *, actor: str, reason: str) -> Reconciliation:
    """Make the ledger hold what the venue holds (balance differences only), audited as `venue.correction`.

    A base asset's difference moves that symbol's position; the quote asset's is shared evenly by
    the accounts' cash. Orders open at the venue are refused: they must be settled at the venue. The
    comparison and the correction are one transaction under the session's lock, and an order the
    trader has in flight refuses it (its fill may be at the venue and not yet in the ledger).
    """
    if not reason.strip():
        raise ConfigError("say why: accepting the venue's balances needs a reason")
    with Session(engine) as db, db.begin():  # the venue is read under the session's lock: no bar moves the ledger
        lock_session(db, session_id)
        in_flight = db.scalars(
            select(TraderOrderRow.id).where(
                TraderOrderRow.session_id == session_id, TraderOrderRow.status.in_(IN_FLIGHT)
            )
        ).first()
        if in_flight is not None:  # the venue may hold its fill already, the ledger not yet: no delta is right
            raise ConfigError(f"order {in_flight} is in flight at the venue; accept again once the trader settled it")
        found, accounts, assets = _reconcile_in(db, session_id, venue, record_baseline=False)
        if any(d.kind == "open_order" for d in found.differences):
            raise ConfigError("orders are open at the venue that the ledger does not know: cancel or settle them first")
        changes = {}
        for asset, amounts in found.balances.items():
            delta = amounts["venue"] - amounts["expected"]
            if abs(delta) <= TOLERANCE + 1e-9 * abs(amounts["expected"]):
                continue
            changes[asset] = delta
            bases = [a for a in accounts if assets[a.symbol][0] == asset]
            for account in bases:
                account.position += delta / len(bases)
            quotes = [a for a in accounts if assets[a.symbol][1] == asset]
            for account in quotes:
                account.cash += delta / len(quotes)
                account.free_cash += delta / len(quotes)
            if not bases and not quotes:  # a fee asset (BNB): no account holds it, the baseline takes the delta
                before = baseline(db, session_id) or {}
                moved = before | {asset: before.get(asset, 0.0) + delta}
                audit.record(
                    db, actor=actor, action=BASELINE, target=session_id, outcome="recorded",
                    detail={"baseline": moved, "venue": {asset: amounts["venue"]}, "ledger": {}},
                )  # fmt: skip
        audit.record(
            db, actor=actor, action=CORRECTION, target=session_id, outcome="applied" if changes else "unchanged",
            detail={"reason": reason, "changes": changes, "differences": [asdict(d) for d in found.differences]},
        )  # fmt: skip
    return reconcile(engine, session_id, venue)
