"""The Slack app: `POST /slack/commands` and `POST /slack/interactions`, verified, answered within 3 s.

Every request's signature is checked before anything else (401 otherwise). Quick answers go back in
the HTTP response; slow work (git, the gate, backtests, stores) runs on a thread pool after an
acknowledgement, and its result is posted to the request's `response_url`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from slack_sdk import WebClient

from tradeops import __version__
from tradeops.audit import AuditLog
from tradeops.errors import ConfigError, TradeopsError
from tradeops.releases import ReleaseStore
from tradeops.service.guards import install_guards
from tradeops.service.health import Health, install_health
from tradeops.settings import AppSettings
from tradeops.slackbot import approve, killswitch
from tradeops.slackbot.backtest import BacktesterClient
from tradeops.slackbot.commands import parse
from tradeops.slackbot.desk import Caller, Desk
from tradeops.slackbot.handlers import Work, immediate
from tradeops.slackbot.permissions import Permissions, slack_group_members
from tradeops.slackbot.replies import Reply, ResponsePoster, error_reply
from tradeops.slackbot.verify import RequestVerifier
from tradeops.store import RunStore, open_object_store
from tradeops.trader.control import TraderControl
from tradeops.vcs.proposals import Proposer, open_repository

SERVICE = "slackbot"
HEARTBEAT_SECONDS = 5.0
log = logging.getLogger(__name__)


def create_app(settings: AppSettings) -> FastAPI:
    """Return the ASGI app; a missing signing secret is a ConfigError (the bot never runs unverified)."""
    if settings.slack_signing_secret is None:
        raise ConfigError("the Slack bot needs TRADEOPS_SLACK_SIGNING_SECRET (Slack app > Basic Information)")
    verifier = RequestVerifier(settings.slack_signing_secret.get_secret_value())
    health = Health(
        service=SERVICE,
        version=__version__,
        git_sha=settings.git_sha,
        deadline_seconds=settings.dependency_timeout_seconds,
    )
    app = FastAPI(
        title="tradeops slackbot",
        version=__version__,
        lifespan=_lifespan(settings, health),
        docs_url=None,
        max_body_size=settings.max_body_bytes,  # the size is checked before the signature: never read a huge body
    )
    install_health(app, health)
    _install_routes(
        app,
        settings,
        verifier,
        Counter(
            "tradeops_slack_requests",
            "Slack requests by kind and outcome",
            ["kind", "outcome"],
            registry=health.registry,
        ),
    )
    install_guards(app, settings)
    return app


def _lifespan(settings: AppSettings, health: Health) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        desk = open_desk(settings)
        poster = ResponsePoster()
        pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-work")
        health.checks = {
            "database": lambda: desk.store.check_writable(settings.dependency_timeout_seconds),
            "object_store": desk.objects.ping,
        }
        app.state.desk, app.state.poster, app.state.pool = desk, poster, pool
        beating = asyncio.create_task(_heartbeat(health))
        try:
            yield
        finally:
            beating.cancel()
            with suppress(asyncio.CancelledError):
                await beating
            pool.shutdown(wait=True, cancel_futures=True)
            poster.close()
            desk.backtester.close()
            desk.store.close()
            health.calls.close()

    return lifespan


def _deliver(app: FastAPI, response_url: str, work: Work, kind: str, handled: Counter) -> None:
    """Run `work` on the pool and post its reply (or the error it raised) to `response_url`."""

    def run() -> None:
        try:
            reply = work()
            handled.labels(kind, "ok").inc()
        except TradeopsError as error:
            reply = error_reply(str(error))
            handled.labels(kind, "error").inc()
        except Exception as error:
            log.exception("%s failed", kind)
            reply = error_reply(f"internal error: {type(error).__name__}")
            handled.labels(kind, "crash").inc()
        app.state.poster.post(response_url, reply)

    app.state.pool.submit(run)


def _install_routes(app: FastAPI, settings: AppSettings, verifier: RequestVerifier, handled: Counter) -> None:
    unverified = {"error": "invalid or missing Slack signature"}

    @app.post("/slack/commands", include_in_schema=False)
    async def commands(request: Request) -> Response:
        form = await _verified_form(request, verifier)
        if form is None:
            handled.labels("command", "unverified").inc()
            return JSONResponse(unverified, status_code=401)
        if form.get("ssl_check"):
            return Response(status_code=200)
        caller = Caller(form.get("user_id", ""), form.get("user_name", ""), form.get("channel_name", ""))
        try:
            _check_channel(settings, caller)
            invocation = parse(form.get("text", ""))
            # off the event loop: a permission check may ask Slack, and audits write to the database
            outcome = await run_in_threadpool(immediate, app.state.desk, invocation, caller)
        except ConfigError as error:
            handled.labels("command", "refused").inc()
            return JSONResponse(error_reply(str(error)).body())
        if isinstance(outcome, Reply):
            handled.labels(invocation.name, "answered").inc()
            return JSONResponse(outcome.body())
        _deliver(app, form.get("response_url", ""), outcome, invocation.name, handled)
        ack = Reply(f":hourglass_flowing_sand: `/trading {invocation.name} {invocation.text}`".rstrip() + " ...")
        return JSONResponse(ack.body())

    @app.post("/slack/interactions", include_in_schema=False)
    async def interactions(request: Request) -> Response:
        form = await _verified_form(request, verifier)
        if form is None:
            handled.labels("interaction", "unverified").inc()
            return JSONResponse(unverified, status_code=401)
        try:
            payload: dict[str, Any] = json.loads(form.get("payload", ""))
            user = payload["user"]
            caller = Caller(str(user["id"]), str(user.get("username") or user.get("name") or ""), _channel(payload))
            action = payload["actions"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return JSONResponse({"error": "not a block_actions payload"}, status_code=400)
        action_id = str(action.get("action_id", ""))
        desk = app.state.desk
        if action_id.startswith("killswitch."):
            work: Work = lambda: killswitch.click(desk, action, caller)  # noqa: E731
        elif action_id.startswith("approve."):
            work = lambda: approve.click(desk, action, caller)  # noqa: E731
        else:
            return Response(status_code=200)
        _deliver(app, str(payload.get("response_url", "")), work, "click", handled)
        return Response(status_code=200)


async def _verified_form(request: Request, verifier: RequestVerifier) -> dict[str, str] | None:
    """The form fields of a correctly signed request, else None (nothing else is read)."""
    body = await request.body()
    if not verifier.is_valid(body, dict(request.headers)):
        return None
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _channel(payload: dict[str, Any]) -> str:
    channel = payload.get("channel")
    return str(channel.get("name", "")) if isinstance(channel, dict) else ""


def _check_channel(settings: AppSettings, caller: Caller) -> None:
    """With TRADEOPS_SLACK_CHANNEL set, commands count only in that channel."""
    wanted = (settings.slack_channel or "").lstrip("#")
    if wanted and caller.channel != wanted:
        raise ConfigError(f"/trading works in #{wanted} only")


async def _heartbeat(health: Health) -> None:
    """The request loop is alive: it beats while it can run tasks."""
    while True:
        health.heartbeat()
        await asyncio.sleep(HEARTBEAT_SECONDS)


def open_desk(settings: AppSettings) -> Desk:
    """Open the stores and the clients the settings name."""
    store = RunStore.from_settings(settings, application="tradeops-slackbot")
    objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    slack = WebClient(
        token=settings.slack_token.get_secret_value() if settings.slack_token else None,
        base_url=settings.slack_base_url or WebClient.BASE_URL,
        timeout=2,  # a group lookup must fit in Slack's 3-second answer
    )
    repository, pulls = open_repository(settings)
    return Desk(
        settings=settings,
        store=store,
        objects=objects,
        control=TraderControl(store.engine),
        audit=AuditLog(store.engine),
        permissions=Permissions(settings.slack_writers, slack_group_members(slack)),
        releases=ReleaseStore(objects),
        backtester=BacktesterClient(
            settings.backtester_url,
            settings.api_token.get_secret_value() if settings.api_token else None,
            timeout_seconds=settings.job_timeout_seconds,
        ),
        repository=repository,
        proposer=Proposer(repository, pulls, objects=objects) if repository else None,
    )
