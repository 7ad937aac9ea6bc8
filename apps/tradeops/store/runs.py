"""The results store: every run's lifecycle, in SQLite locally and PostgreSQL in the cluster."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tradeops.store.database import DatabaseTimeouts, aware, check_writable, open_engine
from tradeops.store.models import RunRow

if TYPE_CHECKING:
    from tradeops.settings import AppSettings

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)


def now() -> datetime:
    return datetime.now(UTC)


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
    def of(cls, row: RunRow) -> Run:
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
    ) -> Run:
        row = RunRow(
            id=uuid.uuid4().hex,
            kind=kind,
            status=QUEUED,
            source=source,
            strategy=strategy,
            params=params,
            request=request,
            data_ref=data_ref,
            config_hash=config_hash,
            owner=owner,
            created_at=now(),
        )
        with self._session.begin() as session:
            session.add(row)
        return Run.of(row)

    def get(self, run_id: str) -> Run | None:
        with Session(self.engine) as session:
            row = session.get(RunRow, run_id)
            return Run.of(row) if row else None

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

    def _set(self, run_id: str, only_from: tuple[str, ...], **values: Any) -> bool:
        with self._session.begin() as session:
            changed = session.execute(
                update(RunRow).where(RunRow.id == run_id, RunRow.status.in_(only_from)).values(**values)
            )
            return bool(changed.rowcount)  # type: ignore[attr-defined]

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
    ) -> bool:
        return self._set(
            run_id,
            (RUNNING,),
            status=DONE,
            result=result,
            metrics=metrics,
            verdict=verdict,
            data_fingerprint=data_fingerprint,
            engine_version=engine_version,
            report_key=report_key,
            **self._finished(run_id),
        )

    def fail(self, run_id: str, error: str) -> bool:
        return self._set(run_id, (QUEUED, RUNNING), status=FAILED, error=error, **self._finished(run_id))

    def _finished(self, run_id: str) -> dict[str, Any]:
        """finished_at, and the duration since the run started (None if it never started)."""
        with Session(self.engine) as session:
            started = session.scalar(select(RunRow.started_at).where(RunRow.id == run_id))
        finished = now()
        return {
            "finished_at": finished,
            "duration_seconds": (finished - aware(started)).total_seconds() if started else None,
        }

    def cancel(self, run_id: str) -> bool:
        return self._set(run_id, (QUEUED, RUNNING), status=CANCELLED, error="cancelled", finished_at=now())

    def claim_interrupted(self, owner: str, *, stale_after_seconds: float) -> list[str]:
        """Take back API runs left queued or running: this owner's own, or any abandoned longer than
        `stale_after_seconds` (a dead instance's). Runs other live instances hold are left alone."""
        cutoff = now() - timedelta(seconds=stale_after_seconds)
        with self._session.begin() as session:
            rows = session.scalars(
                select(RunRow)
                .where(RunRow.status.in_((QUEUED, RUNNING)), RunRow.source == "api")
                .order_by(RunRow.created_at)
            )
            ids = [
                row.id for row in rows if row.owner in (owner, None) or aware(row.started_at or row.created_at) < cutoff
            ]
            session.execute(
                update(RunRow).where(RunRow.id.in_(ids)).values(status=QUEUED, started_at=None, owner=owner)
            )
        return ids

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
