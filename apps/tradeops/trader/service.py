"""`tradeops serve trader`: the trading loop in a thread, the health standard, and the kill switch API."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import Field

from tradeops import __version__
from tradeops.audit import AuditLog
from tradeops.data.load import load_bars
from tradeops.errors import ConfigError
from tradeops.gate.candidate import Candidate, load_candidate
from tradeops.notify import open_notifier
from tradeops.service.auth import Principal, token_guard
from tradeops.service.bodies import RequestBody
from tradeops.service.guards import install_guards, mutating_under
from tradeops.service.health import Health, install_health
from tradeops.settings import AppSettings
from tradeops.store.database import DatabaseTimeouts, check_writable, open_engine
from tradeops.store.objects import open_object_store
from tradeops.strategies import get_strategy
from tradeops.trader import killswitch
from tradeops.trader.control import COMMANDS, TraderControl
from tradeops.trader.feed import DatasetFeed, Feed, FileBarSource, PollingFeed, ReplayFeed
from tradeops.trader.loop import SessionConfig, Trader
from tradeops.trader.metrics import FeedCollector, TraderCollector
from tradeops.trader.venue.setup import venue_session
from tradeops.trader.version import GuardedFeed, VersionGuard

SERVICE = "trader"
MAX_BACKOFF_SECONDS = 60.0
LOG = logging.getLogger("tradeops.trader")


class StateChange(RequestBody):
    """A kill-switch command: what, and why. Who asks is the authenticated principal, never the body."""

    action: Literal["halt", "reduce-only", "resume"]
    reason: str = Field(min_length=3, max_length=500, description="why; goes to the audit log")
    session: str | None = Field(
        None, max_length=64, description="the session meant (this service's own when left out; another is refused)"
    )


def session_config(settings: AppSettings) -> tuple[SessionConfig, Candidate]:
    """The session the settings describe; a ConfigError names what is missing."""
    if settings.trader_candidate is None:
        raise ConfigError("TRADEOPS_TRADER_CANDIDATE is not set: the trader needs the candidate YAML it trades")
    candidate = load_candidate(settings.trader_candidate)
    config = SessionConfig(
        session_id=settings.trader_session,
        strategy=get_strategy(candidate.strategy),
        params=candidate.strategy_params(),
        data_ref=str(settings.trader_feed_file or candidate.data),
        execution=candidate.execution,
        limits=settings.trader_risk,  # TRADEOPS_TRADER_<LIMIT>, rendered from the stack's `risk:` (infra/stack.py)
    )
    return config, candidate


def version_guard(settings: AppSettings, audit: AuditLog, session_id: str) -> VersionGuard | None:
    """In a stack (not on a laptop), the guard that keeps this trader from trading a version the stack does not
    record as running (trader/version.py); the stack is the environment's name (`Pulumi.<environment>.yaml`)."""
    if settings.environment == "local":
        return None
    from tradeops.releases import ReleaseStore

    releases = ReleaseStore(open_object_store(settings.resolved_object_store, settings.s3_endpoint_url))
    stack = settings.environment

    def running() -> str | None:
        release = releases.current(stack)
        return None if release is None else release.version

    def changed(refusal: str | None) -> None:
        if refusal is not None:
            LOG.error("not trading: %s", refusal)
        audit.record(
            actor="system",
            action="trader.version",
            target=session_id,
            outcome="refused" if refusal else "matched",
            detail={"own": settings.git_sha, "stack": stack, "reason": refusal},
        )

    return VersionGuard(settings.git_sha, running, stack=stack, on_change=changed)


class LoopThread:
    """Runs the trader over its feed. A crash is reported on /readyz and the loop starts again from the
    ledger after a backoff (crash-only: restarting is the recovery path), so a bad row the data collector
    later repairs, or a database that comes back, does not stop trading for good."""

    def __init__(self, trader: Trader, feed: Feed, stop: threading.Event, *, backoff: float = 1.0) -> None:
        self.trader, self.feed, self.stop, self.backoff = trader, feed, stop, backoff
        self.error: str | None = None
        self.restarts = 0
        self.thread = threading.Thread(target=self._run, name="trader-loop", daemon=True)

    def _ok(self, _bar: int) -> None:
        self.error = None

    def _run(self) -> None:
        delay = self.backoff
        while not self.stop.is_set():
            try:
                self.trader.run(self.feed, on_bar=self._ok)
                if self.feed.name == "replay" and not self.stop.is_set():
                    self.trader.finish()
                return
            except Exception as error:  # noqa: BLE001 - reported on /readyz and /status, then retried
                self.error = f"{type(error).__name__}: {error}"
                LOG.error("trading loop stopped (%s); restarting from the ledger in %.0f s", self.error, delay)
                self.restarts += 1
                self.stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"trading loop stopped: {self.error} (restarts: {self.restarts})")


def create_app(settings: AppSettings) -> FastAPI:
    """Return the trader's ASGI app; the loop starts with the app (start and recovery are one path)."""
    config, candidate = session_config(settings)
    health = Health(
        service=SERVICE,
        version=__version__,
        git_sha=settings.git_sha,
        deadline_seconds=settings.dependency_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = open_engine(
            settings.resolved_database_url, timeouts=DatabaseTimeouts.of(settings), application="tradeops-trader"
        )
        notifier = open_notifier(settings)
        stop = threading.Event()
        feed: Feed
        if settings.trader_feed_file is not None:
            source = FileBarSource(settings.trader_feed_file)
            feed = PollingFeed(source, interval=settings.trader_poll_seconds, stop=stop)
        elif candidate.data.startswith("dataset:") and "@" not in candidate.data:  # follow the latest version
            feed = DatasetFeed(
                candidate.data,
                objects=open_object_store(settings.resolved_object_store, settings.s3_endpoint_url),
                interval=settings.trader_poll_seconds,
                stall_bars=settings.feed_stall_bars,
                stop=stop,
            )
        else:
            objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
            bars = load_bars(candidate.data, window=candidate.window, objects=objects)
            feed = ReplayFeed(bars, speed=settings.trader_replay_speed, stop=stop)
        control = TraderControl(engine)
        guard = version_guard(settings, AuditLog(engine), config.session_id)
        traded: Feed = feed if guard is None else GuardedFeed(feed, guard, stop=stop)
        execution = config.execution
        venue = venue_session(settings, fraction=float(execution.fraction), slippage=float(execution.slippage))
        trader = Trader(
            engine,
            config,
            broker=venue.broker if venue else None,
            venue=venue,
            notifier=notifier,
            heartbeat=health.heartbeat,
        )
        loop = LoopThread(trader, traded, stop)
        health.registry.register(TraderCollector(control, config.session_id, config.execution.cash))

        def database() -> None:
            control.status(config.session_id)
            check_writable(engine, "trader_sessions", within_seconds=settings.dependency_timeout_seconds)

        health.checks = {"database": database, "loop": loop.check}
        if isinstance(feed, DatasetFeed):
            health.checks["feed"] = feed.check
            health.registry.register(FeedCollector(feed))
        health.details = lambda: {
            "session": config.session_id,
            "feed": feed.name,
            **({"version_guard": guard.state()} if guard else {}),
        }
        app.state.control, app.state.audit = control, AuditLog(engine)
        loop.thread.start()
        try:
            yield
        finally:
            stop.set()
            loop.thread.join(timeout=30)
            notifier.close()
            engine.dispose()
            health.calls.close()

    app = FastAPI(
        title="tradeops trader", version=__version__, lifespan=lifespan, max_body_size=settings.max_body_bytes
    )
    install_health(app, health)
    app.include_router(_router(settings, config.session_id))
    install_guards(app, settings, mutating_under("/v1/trader/", "/v1/trader/audit"))
    return app


def _router(settings: AppSettings, session_id: str) -> APIRouter:
    router = APIRouter(prefix="/v1/trader", tags=["trader"])
    authorised = token_guard(settings)

    @router.get("/status", summary="State, equity, drawdown, positions and order counts")
    def status(request: Request) -> dict[str, Any]:
        try:
            return request.app.state.control.status(session_id).as_dict()
        except ConfigError as error:
            raise HTTPException(404, str(error)) from error

    @router.post("/state", summary="Kill switch: halt, reduce-only or resume (audited as the token's principal)")
    def change(
        body: StateChange,
        request: Request,
        principal: Principal = Depends(authorised),  # noqa: B008 - a local dependency: an annotation cannot name it
    ) -> dict[str, Any]:
        ctl: TraderControl = request.app.state.control
        if body.session is not None and body.session != session_id:
            raise HTTPException(409, f"this trader service trades session {session_id!r}, not {body.session!r}")
        try:
            if body.action == "halt":  # on a venue, its open orders are cancelled too (trader/killswitch.py)
                return killswitch.halt(
                    settings, ctl, actor=principal.name, reason=body.reason, session_id=session_id
                ).as_dict()
            return ctl.set_state(
                COMMANDS[body.action], actor=principal.name, reason=body.reason, session_id=session_id
            ).as_dict()
        except ConfigError as error:
            raise HTTPException(409, str(error)) from error

    @router.get("/audit", dependencies=[Depends(authorised)], summary="The newest audit entries (needs the token)")
    def audit_entries(request: Request, limit: int = 50) -> list[dict[str, Any]]:
        return [e.as_dict() for e in request.app.state.audit.entries(limit=min(max(limit, 1), 500))]

    return router
