"""The results store: every run's lifecycle, in SQLite locally and PostgreSQL in the cluster."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tradeops.errors import TradeopsError
from tradeops.store.database import DatabaseTimeouts, aware, check_writable, open_engine
from tradeops.store.models import RunRow

if TYPE_CHECKING:
    from tradeops.settings import AppSettings

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)
KINDS = ("backtest", "sweep", "gate")  # what a stored run is: one backtest, a grid, a gate verdict
QUEUE_SOURCES = ("api", "ui")  # runs the API's runner executes (the watcher and the CLI run their own)


class IdempotencyConflict(TradeopsError):
    """An Idempotency-Key already created a run from a different request."""


class CommitDeadlinePassed(TradeopsError):
    """A write was ready after its caller's deadline: rolled back, so an answer already given stays true."""


def request_hash(kind: str, body: dict[str, Any]) -> str:
    """What an Idempotency-Key is bound to: the kind of run and the client's body, canonical JSON."""
    canonical = json.dumps({"kind": kind, "body": body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def ended_since(started: datetime | None) -> dict[str, Any]:
    """A run's finished_at (now) and its duration since `started` (None if it never started)."""
    finished = now()
    return {
        "finished_at": finished,
        "duration_seconds": (finished - aware(started)).total_seconds() if started else None,
    }


@dataclass(frozen=True)
class Run:
    """A read-only copy of one row."""

    id: str
    kind: str
    status: str
    source: str
    strategy: str
    params: dict[str, Any]
    request: dict[str, Any]
    data_ref: str
    data_fingerprint: str | None
    engine_version: str | None
    config_hash: str | None
    owner: str | None
    metrics: dict[str, Any] | None
    verdict: dict[str, Any] | None
    result: dict[str, Any] | None
    report_key: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None

    def execution(self) -> str:
        """The execution settings in one line (`ExecutionSettings.summary`): those the run used, as its result
        records them, else those it was asked for; "n/a" for a run stored without them."""
        from pydantic import ValidationError

        from tradeops.engine.settings import ExecutionSettings

        given = (self.result or {}).get("execution") or (self.request or {}).get("execution")
        if given is None:
            return "n/a"
        try:
            return ExecutionSettings.model_validate(given).summary()
        except ValidationError:
            return "n/a"

    @classmethod
    def of(cls, row: RunRow | Row[Any]) -> Run:
        values = {name: getattr(row, name) for name in cls.__dataclass_fields__}
        for stamp in ("created_at", "started_at", "finished_at"):  # SQLite returns naive datetimes
            if values[stamp] is not None and values[stamp].tzinfo is None:
                values[stamp] = values[stamp].replace(tzinfo=UTC)
        return cls(**values)


class RunStore:
    """Create, update and query runs. Every write is one short transaction."""

    def __init__(
        self,
        database_url: str,
        *,
        migrate: bool = True,
        timeouts: DatabaseTimeouts | None = None,
        application: str | None = None,
    ) -> None:
        self.url = database_url
        self.engine = open_engine(database_url, migrate=migrate, timeouts=timeouts, application=application)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: AppSettings, *, application: str | None = None) -> RunStore:
        """The store the settings name, with their connect and statement deadlines (every opener uses this)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings.resolved_database_url, timeouts=DatabaseTimeouts.of(settings), application=application)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot answer."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def check_writable(self, within_seconds: float = 2.0) -> None:
        """Raise unless a run could be written now (a readiness check; see `check_writable`)."""
        check_writable(self.engine, "runs", within_seconds=within_seconds)

    def create(
        self,
        *,
        kind: str,
        strategy: str,
        params: dict[str, Any],
        request: dict[str, Any],
        data_ref: str,
        source: str = "api",
        config_hash: str | None = None,
        owner: str | None = None,
        idempotency_key: str | None = None,
        body_hash: str | None = None,
        commit_by: float | None = None,
        running: bool = False,
    ) -> Run:
        """Write a queued run; with `idempotency_key`, the run that key created before when there is one.

        `body_hash` (see `request_hash`) is what the key is bound to: the same key with another body raises
        IdempotencyConflict. `commit_by` (time.monotonic) is the caller's deadline: a transaction still open then
        is rolled back (CommitDeadlinePassed) instead of committed after the client was told it failed.
        `running`: written as started (work that runs elsewhere, which the API's runner must never claim).
        """
        if idempotency_key is not None:
            earlier = self.by_idempotency_key(idempotency_key, body_hash)
            if earlier is not None:
                return earlier
        stamp = now()
        row = RunRow(
            id=uuid.uuid4().hex,
            kind=kind,
            status=RUNNING if running else QUEUED,
            started_at=stamp if running else None,
            source=source,
            strategy=strategy,
            params=params,
            request=request,
            data_ref=data_ref,
            config_hash=config_hash,
            owner=owner,
            created_at=stamp,
            idempotency_key=idempotency_key,
            request_hash=body_hash if idempotency_key is not None else None,
        )
        try:
            with self._session.begin() as session:
                session.add(row)
                session.flush()
                if commit_by is not None and time.monotonic() > commit_by:
                    raise CommitDeadlinePassed("the database answered after the request's deadline; nothing written")
        except IntegrityError:
            if idempotency_key is None:
                raise
            earlier = self.by_idempotency_key(idempotency_key, body_hash)  # the same key, sent twice at once
            if earlier is None:
                raise
            return earlier
        return Run.of(row)

    def by_idempotency_key(self, key: str, body_hash: str | None) -> Run | None:
        """The run `key` created, or None; IdempotencyConflict when it was created from another body."""
        with Session(self.engine) as session:
            row = session.scalars(select(RunRow).where(RunRow.idempotency_key == key)).first()
            if row is None:
                return None
            if row.request_hash != body_hash:
                raise IdempotencyConflict(
                    f"Idempotency-Key {key!r} was used for a different request (run {row.id}); "
                    "use a new key for a new request"
                )
            return Run.of(row)

    def get(self, run_id: str) -> Run | None:
        with Session(self.engine) as session:
            row = session.get(RunRow, run_id)
            return Run.of(row) if row else None

    def ids_starting_with(self, prefix: str, limit: int = 3) -> list[str]:
        """Up to `limit` run ids that start with `prefix` (the short ids `tradeops runs list` prints)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with Session(self.engine) as session:
            query = select(RunRow.id).where(RunRow.id.like(f"{escaped}%", escape="\\")).limit(limit)
            return list(session.scalars(query))

    def list_runs(
        self,
        *,
        kind: str | None = None,
        strategy: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Run], int]:
        """Return one page of runs, newest first, and the total matching."""
        query = select(RunRow)
        for column, value in ((RunRow.kind, kind), (RunRow.strategy, strategy), (RunRow.status, status)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(RunRow.created_at >= since)
        with Session(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(RunRow.created_at.desc(), RunRow.id).limit(limit).offset(offset))
            return [Run.of(r) for r in rows], total

    def _set(self, run_id: str, only_from: tuple[str, ...], held_by: str | None = None, **values: Any) -> bool:
        query = update(RunRow).where(RunRow.id == run_id, RunRow.status.in_(only_from))
        if held_by is not None:  # only while this holder's claim stands (not requeued and taken by another)
            query = query.where(RunRow.owner == held_by)
        with self._session.begin() as session:
            changed = session.execute(query.values(**values))
            return bool(changed.rowcount)  # type: ignore[attr-defined]

    def claim(self, holder: str, *, lease_seconds: float) -> Run | None:
        """Take the oldest queued API run (see `claim_many`); None when nothing is queued."""
        claimed = self.claim_many(holder, 1, lease_seconds=lease_seconds)
        return claimed[0] if claimed else None

    def claim_many(self, holder: str, count: int, *, lease_seconds: float) -> list[Run]:
        """Take up to `count` of the oldest queued API runs, oldest first: queued -> running, held by `holder`
        with a lease, in one conditional `UPDATE ... RETURNING` (one round trip however many). On PostgreSQL
        runners on other instances skip the rows being claimed (SKIP LOCKED), they never wait or take them twice;
        SQLite runs one writer at a time."""
        if count < 1:
            return []
        stamp = now()
        oldest = (
            select(RunRow.id)
            .where(RunRow.status == QUEUED, RunRow.source.in_(QUEUE_SOURCES))
            .order_by(RunRow.created_at, RunRow.id)
            .limit(count)
        )
        table = RunRow.__table__
        if self.engine.dialect.name == "postgresql":
            # a CTE, evaluated once: PostgreSQL may run an `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` again
            # per row it updates, and so claim more than n runs (seen: a claim of one took two)
            picked = oldest.with_for_update(skip_locked=True).cte("picked")
            chosen = table.c.id == picked.c.id
        else:
            chosen = table.c.id.in_(oldest.scalar_subquery())
        claim = (
            update(table)  # type: ignore[arg-type]
            .where(chosen, table.c.status == QUEUED)
            .values(
                status=RUNNING,
                owner=holder,
                started_at=stamp,
                heartbeat_at=stamp,
                lease_expires_at=stamp + timedelta(seconds=lease_seconds),
            )
            .returning(*table.c)
        )
        with self.engine.begin() as connection:
            runs = [Run.of(row) for row in connection.execute(claim)]
        return sorted(runs, key=lambda run: (run.created_at, run.id))

    def renew(self, holder: str, run_ids: list[str], *, lease_seconds: float) -> set[str]:
        """Extend `holder`'s leases on `run_ids`; return those it still holds (a run cancelled or taken back
        meanwhile is not among them: its job must stop)."""
        if not run_ids:
            return set()
        stamp = now()
        held = (RunRow.id.in_(run_ids), RunRow.status == RUNNING, RunRow.owner == holder)
        with self._session.begin() as session:
            session.execute(
                update(RunRow)
                .where(*held)
                .values(heartbeat_at=stamp, lease_expires_at=stamp + timedelta(seconds=lease_seconds))
            )
            return set(session.scalars(select(RunRow.id).where(*held)))

    def requeue_expired(self) -> list[str]:
        """Return runs whose holder's lease ran out (a dead or cut-off instance) to the queue; their ids."""
        expired = (
            RunRow.status == RUNNING,
            RunRow.source.in_(QUEUE_SOURCES),
            RunRow.lease_expires_at.is_not(None),
            RunRow.lease_expires_at < now(),
        )
        with self._session.begin() as session:
            ids = list(session.scalars(select(RunRow.id).where(*expired)))
            if ids:
                session.execute(
                    update(RunRow)
                    .where(RunRow.id.in_(ids), *expired)
                    .values(status=QUEUED, owner=None, started_at=None, heartbeat_at=None, lease_expires_at=None)
                )
        return ids

    def release(self, holder: str, run_ids: list[str]) -> None:
        """Hand `holder`'s running `run_ids` back to the queue (a runner stopping: another takes them now)."""
        if not run_ids:
            return
        with self._session.begin() as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id.in_(run_ids), RunRow.status == RUNNING, RunRow.owner == holder)
                .values(status=QUEUED, owner=None, started_at=None, heartbeat_at=None, lease_expires_at=None)
            )

    def queued_count(self) -> int:
        """How many runs wait for the API's runner."""
        with Session(self.engine) as session:
            query = select(func.count()).where(RunRow.status == QUEUED, RunRow.source.in_(QUEUE_SOURCES))
            return session.scalar(query) or 0

    def mark_running(self, run_id: str) -> bool:
        return self._set(run_id, (QUEUED,), status=RUNNING, started_at=now())

    def finish(
        self,
        run_id: str,
        *,
        result: dict[str, Any],
        metrics: dict[str, Any] | None,
        verdict: dict[str, Any] | None,
        data_fingerprint: str | None,
        engine_version: str,
        report_key: str | None,
        held_by: str | None = None,
        ended: dict[str, Any] | None = None,
    ) -> bool:
        """Record a run as done; `ended` (see `ended_since`) when the caller knows its start, saving a read."""
        return self._set(
            run_id,
            (RUNNING,),
            held_by,
            status=DONE,
            lease_expires_at=None,
            result=result,
            metrics=metrics,
            verdict=verdict,
            data_fingerprint=data_fingerprint,
            engine_version=engine_version,
            report_key=report_key,
            **(ended or self._finished(run_id)),
        )

    def fail(self, run_id: str, error: str, *, held_by: str | None = None, ended: dict[str, Any] | None = None) -> bool:
        """Record a run as failed; `ended` as for `finish`."""
        return self._set(
            run_id,
            (QUEUED, RUNNING),
            held_by,
            status=FAILED,
            error=error,
            lease_expires_at=None,
            **(ended or self._finished(run_id)),
        )

    def _finished(self, run_id: str) -> dict[str, Any]:
        """finished_at, and the duration since the run started (None if it never started), read from the row."""
        with Session(self.engine) as session:
            started = session.scalar(select(RunRow.started_at).where(RunRow.id == run_id))
        return ended_since(started)

    def cancel(self, run_id: str) -> bool:
        return self._set(
            run_id, (QUEUED, RUNNING), status=CANCELLED, error="cancelled", finished_at=now(), lease_expires_at=None
        )

    def latest(
        self,
        *,
        kind: str,
        source: str | None = None,
        exclude_config: str | None = None,
        statuses: tuple[str, ...] = (DONE,),
    ) -> Run | None:
        """Return the newest run of that kind (and source, when given) in `statuses`, optionally from another
        configuration."""
        query = select(RunRow).where(RunRow.kind == kind, RunRow.status.in_(statuses))
        if source is not None:
            query = query.where(RunRow.source == source)
        if exclude_config is not None:
            query = query.where(RunRow.config_hash != exclude_config)
        with Session(self.engine) as session:
            row = session.scalars(query.order_by(RunRow.created_at.desc()).limit(1)).first()
            return Run.of(row) if row else None

    def finished_runs(self) -> list[Run]:
        """Every run in a final state."""
        with Session(self.engine) as session:
            return [Run.of(r) for r in session.scalars(select(RunRow).where(RunRow.status.in_(FINAL)))]

    def unfinished_ids(self) -> set[str]:
        with Session(self.engine) as session:
            return set(session.scalars(select(RunRow.id).where(RunRow.status.notin_(FINAL))))

    def delete_run(self, run_id: str) -> None:
        with self._session.begin() as session:
            session.execute(delete(RunRow).where(RunRow.id == run_id))

    def counts(self) -> dict[str, int]:
        """Return how many runs are in each status."""
        with Session(self.engine) as session:
            rows = session.execute(select(RunRow.status, func.count()).group_by(RunRow.status))
            return {status: count for status, count in rows}
