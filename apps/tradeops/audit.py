"""The audit log: who did what, when, to what, and how it ended. Every write command records here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from tradeops.actors import RISK_ENGINE as RISK_ENGINE  # the actor of automatic state changes
from tradeops.store.database import aware
from tradeops.store.models import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


def record(
    session: Session, *, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any] | None = None
) -> None:
    """Add an entry inside the caller's transaction, so the entry and the change commit together."""
    session.add(AuditRow(**_entry(actor=actor, action=action, target=target, outcome=outcome, detail=detail)))


def append(
    connection: Connection, *, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any] | None = None
) -> None:
    """`record` for a caller writing with Core statements: one INSERT in the connection's transaction."""
    entry = _entry(actor=actor, action=action, target=target, outcome=outcome, detail=detail)
    connection.execute(insert(AuditRow).values(**entry))


def _entry(*, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any] | None) -> dict[str, Any]:
    if not actor.strip():
        raise ValueError("an audited action needs an actor")
    return {
        "at": datetime.now(UTC),
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "detail": detail or {},
    }


class AuditLog:
    """Read and append audit entries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, **entry: Any) -> None:
        """Append one entry in its own transaction (see `record` for the fields)."""
        with Session(self.engine) as session, session.begin():
            record(session, **entry)

    def entries(self, *, limit: int = 50, action_prefix: str | None = None) -> list[AuditEntry]:
        """Return the newest entries first."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if action_prefix:
            query = query.where(AuditRow.action.startswith(action_prefix))
        with Session(self.engine) as session:
            return [
                AuditEntry(
                    id=row.id,
                    at=aware(row.at),
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    outcome=row.outcome,
                    detail=row.detail,
                )
                for row in session.scalars(query)
            ]
