"""The read commands: status, params, verdict, releases, backups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from tradeops import __version__
from tradeops.backup import BackupError, BackupRepository
from tradeops.errors import ConfigError
from tradeops.gate import validate_candidate
from tradeops.monitor import check_service
from tradeops.slackbot.desk import Desk
from tradeops.slackbot.replies import Reply, checks_lines, number
from tradeops.store import Run
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params
from tradeops.vcs.stacks import StackRepository

GATE_RUNS_SCANNED = 200


def status(desk: Desk) -> Reply:
    """This bot, the backtester, and the trading session's state, equity and drawdown."""
    settings = desk.settings
    lines = [f"*tradeops* `{desk.default_stack}`: slackbot {__version__} (git `{settings.git_sha}`)"]
    backtester = check_service("backtester", settings.backtester_url, heartbeat_max_age=120, timeout=2.0)
    lines.append(f"{':large_green_circle:' if backtester.healthy else ':red_circle:'} backtester: {backtester.detail}")
    try:
        trader = desk.control.status()
    except ConfigError as error:
        lines.append(f":white_circle: trader: {error}")
        return Reply("\n".join(lines))
    icon = {"running": ":large_green_circle:", "reducing": ":large_yellow_circle:"}.get(trader.state, ":red_circle:")
    reason = f" ({trader.state_reason})" if trader.state_reason else ""
    positions = ", ".join(f"{s} {number(p, 4)}" for s, p in trader.positions.items() if p) or "flat"
    lines += [
        f"{icon} trader `{trader.session}`: *{trader.state}*{reason}, {trader.strategy} "
        + " ".join(f"{k}={v}" for k, v in trader.params.items()),
        f"equity {number(trader.equity)}, drawdown {number(trader.drawdown_pct)}%, positions: {positions}, "
        f"last bar {trader.last_bar}",
    ]
    return Reply("\n".join(lines))


def repository(desk: Desk) -> StackRepository:
    if desk.repository is None:
        raise ConfigError("no repository configured: set TRADEOPS_GIT_REMOTE (a git URL or a local path)")
    return desk.repository


def params(desk: Desk, stack: str) -> Reply:
    """The stack's candidate and thresholds as the base branch holds them."""
    settings = repository(desk).read(stack).settings
    candidate = settings.get("candidate") or {}
    shown = yaml.safe_dump({"candidate": candidate}, sort_keys=False, default_flow_style=False).strip()
    return Reply(f"`{stack}` on `{desk.settings.git_base_branch}`:\n```{shown}```")


def _same_candidate(run: Run, candidate: dict[str, Any]) -> bool:
    """Is the gate run of this strategy, these (default-filled) parameters and this data?"""
    if run.strategy != candidate["strategy"] or run.data_ref != candidate["data"]:
        return False
    try:
        strategy = get_strategy(run.strategy)
        return validate_params(strategy, run.params) == validate_params(strategy, candidate["params"])
    except ConfigError:
        return False


def verdict(desk: Desk, stack: str) -> Reply:
    """The newest gate verdict of the stack's current candidate (else the newest gate verdict at all)."""
    runs, _ = desk.store.list_runs(kind="gate", limit=GATE_RUNS_SCANNED)
    judged = [r for r in runs if r.status in ("done", "failed")]
    if not judged:
        return Reply("no gate verdict yet")
    note = ""
    chosen = judged[0]
    if desk.repository is not None:
        settings = desk.repository.read(stack).settings
        candidate = validate_candidate(settings.get("candidate"), f"{stack} candidate").model_dump(mode="json")
        match = next((r for r in judged if _same_candidate(r, candidate)), None)
        if match is None:
            note = f"\n_no gate run of `{stack}`'s current candidate yet; this is the newest gate run_"
        chosen = match or chosen
    return Reply(_verdict_text(chosen) + note)


def _verdict_text(run: Run) -> str:
    params = " ".join(f"{k}={v}" for k, v in run.params.items())
    head = f"gate run `{run.id}` ({run.source}, {run.created_at:%Y-%m-%d %H:%M} UTC) of `{run.strategy}` {params}"
    if run.status == "failed" or run.verdict is None:
        return f":x: {head}: could not decide: {run.error}"
    verdict = run.verdict
    if verdict.get("error"):
        return f":x: {head}: could not decide: {verdict['error']}"
    word = ":white_check_mark: PASSED" if verdict.get("passed") else ":x: FAILED"
    return "\n".join([f"{word} {head}", *checks_lines(verdict.get("checks", []))])


def releases(desk: Desk, stack: str, limit: int = 10) -> Reply:
    """The stack's newest releases: version, kind, result, when, who, and the gate verdict it rests on."""
    history = desk.releases.history(stack)[:limit]
    if not history:
        return Reply(f"no releases recorded for `{stack}`")
    lines = [f"releases of `{stack}`, newest first:"]
    for release in history:
        gate = {True: "gate passed", False: "gate FAILED", None: "no gate"}[release.gate_passed]
        failed = f" at {release.failed_step}" if release.failed_step else ""
        lines.append(
            f"• `{release.version}` {release.kind} {release.result}{failed}, "
            f"{release.finished_at:%Y-%m-%d %H:%M} UTC by {release.who} ({gate}"
            + (", reused" if release.gate_reused else "")
            + ")"
        )
    return Reply("\n".join(lines))


def backups(desk: Desk) -> Reply:
    """Newest backups, the age of the newest one, and the RPO (age of the newest verified one)."""
    try:
        repo = BackupRepository(desk.settings.resolved_database_url, desk.objects)
        views = repo.list_backups()
        recovery = repo.recovery()
    except BackupError as error:
        raise ConfigError(f"backups cannot be listed: {error}") from None
    if not views:
        return Reply(":warning: no backups yet")
    age_hours = (datetime.now(UTC) - views[0].created_at).total_seconds() / 3600
    rpo, rto = recovery["rpo_seconds"], recovery["rto_seconds"]
    lines = [
        f"last backup `{views[0].id}` {age_hours:.1f} h ago; "
        + (f"RPO {rpo / 3600:.1f} h (newest verified), RTO {number(rto)} s" if rpo is not None else "none verified yet")
    ]
    lines += [
        f"• `{v.id}` {v.kind} {v.size_bytes:,d} B {'verified' if v.verified else 'unverified'}" for v in views[:5]
    ]
    return Reply("\n".join(lines))
