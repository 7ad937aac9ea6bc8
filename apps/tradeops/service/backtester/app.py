"""Assemble the backtester: stores, runner, notifier, health and the /v1 routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tradeops import __version__
from tradeops.notify import open_notifier
from tradeops.service.backtester.metrics import GateCollector
from tradeops.service.backtester.routes import build_router
from tradeops.service.dashboard import install_dashboard, install_dashboard_errors
from tradeops.service.guards import install_guards, mutating_under
from tradeops.service.health import Health, install_health
from tradeops.service.runner import JobRunner
from tradeops.settings import AppSettings
from tradeops.store import ObjectStore, RunStore, open_object_store

SERVICE = "backtester"


def create_app(settings: AppSettings) -> FastAPI:
    """Return the ASGI app; stores open and the runner starts when the app starts (crash-only: one path)."""
    health = Health(
        service=SERVICE,
        version=__version__,
        git_sha=settings.git_sha,
        deadline_seconds=settings.dependency_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = RunStore.from_settings(settings, application="tradeops-backtester")
        objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
        notifier = open_notifier(settings)
        runner = JobRunner(
            store,
            objects,
            notifier,
            workers=settings.workers,
            queue_limit=settings.queue_limit,
            timeout_seconds=settings.job_timeout_seconds,
            lease_seconds=settings.job_lease_seconds,
            max_jobs_per_worker=settings.worker_max_jobs,
            max_worker_memory_mib=settings.worker_max_memory_mib,
            queue_deadline_seconds=settings.dependency_timeout_seconds,
            registry=health.registry,
            heartbeat=health.heartbeat,
            path_roots={str(settings.market_dir): "", str(settings.data_dir.resolve()): ""},
            objects_location=(settings.resolved_object_store, settings.s3_endpoint_url),
        )
        runner.start()  # the queue is the database: runs left queued, or with a lease run out, are taken from there
        _register_backup_metrics(settings, objects, health)
        health.registry.register(health.bounded(GateCollector(store), "gate"))
        health.checks = {
            "database": lambda: store.check_writable(settings.dependency_timeout_seconds),
            "object_store": objects.ping,
            "job_runner": runner.check_alive,
        }
        health.details = lambda: {"queue": runner.depth, "workers": runner.workers(), "runs": store.counts()}
        app.state.store, app.state.objects, app.state.runner = store, objects, runner
        try:
            yield
        finally:
            runner.stop()
            notifier.close()
            store.close()
            health.calls.close()

    app = FastAPI(
        title="tradeops backtester",
        version=__version__,
        lifespan=lifespan,
        description="Backtests, sweeps and gate verdicts. Mutating calls need `Authorization: Bearer`.",
        max_body_size=settings.max_body_bytes,  # a streamed body is cut off at the limit too (413)
    )
    install_health(app, health)
    app.include_router(build_router(settings))
    install_dashboard(app, settings)
    install_guards(app, settings, mutating_under("/v1/"))
    install_dashboard_errors(app)
    return app


def _register_backup_metrics(settings: AppSettings, objects: ObjectStore, health: Health) -> None:
    """Expose RPO/RTO of the database's backups, when that database can be backed up."""
    from tradeops.backup import BackupError, BackupRepository
    from tradeops.backup.metrics import BackupCollector

    try:
        repository = BackupRepository(settings.resolved_database_url, objects)
    except BackupError:
        return
    health.registry.register(health.bounded(BackupCollector(repository), "backups"))
