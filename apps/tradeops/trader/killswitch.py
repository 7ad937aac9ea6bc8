"""The kill switch, one function for every front door: the CLI, the trader API, the Slack bot, MCP.

A halt is applied to the ledger first, by the caller's own principal, and never waits for the venue:
once it returns, the trader sends nothing new. With the paper broker that is all. With a venue
(`TRADEOPS_BROKER_KIND=ccxt`) the venue's open orders are cancelled too (MiFID II RTS 6's kill
function): by the trader service when the caller names it (`TRADEOPS_TRADER_URL`: the Slack bot and
the MCP server, which may not reach the venue; only the trader may), otherwise right here with the
broker the settings build (the CLI, the trader service itself). What the venue did, or why it could
not be asked, comes back under `venue`; the halt stands either way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tradeops.errors import TradeopsError
from tradeops.settings import AppSettings
from tradeops.trader.control import HALTED, TraderControl, TraderStatus

CONNECT_SECONDS = 5.0  # to reach the trader service
MARGIN_SECONDS = 15.0  # beyond the venue's own deadlines: a caller always waits longer than the trader does


def deadline_seconds(settings: AppSettings) -> float:
    """How long a halt may take where the venue is reached: the session's lock (an order at the venue, bounded
    by the order deadline), then the cancels (bounded by the order deadline), plus a margin."""
    return 2 * settings.broker_order_deadline_seconds + MARGIN_SECONDS


def halt(
    settings: AppSettings,
    control: TraderControl,
    *,
    actor: str,
    reason: str,
    session_id: str | None = None,
    flatten: bool = False,
    trader_url: str | None = None,
) -> TraderStatus:
    """Halt the session; on a venue, withdraw its open orders (and with `flatten` sell its positions).

    Returns once nothing more can be sent: the state changes under the lock the venue gateway holds while an
    order is at the venue, so an order being sent is awaited (its answer is the venue's), every later one is
    refused; then the venue's open orders are cancelled. The answer lists both (`venue.in_flight`,
    `venue.cancelled`)."""
    wait = settings.broker_order_deadline_seconds + MARGIN_SECONDS
    status = control.set_state(HALTED, actor=actor, reason=reason, session_id=session_id, wait_seconds=wait)
    if settings.broker_kind != "ccxt":
        return status
    if trader_url:
        venue = _through_trader(settings, trader_url, reason, flatten, status.session)
    else:
        venue = _at_venue(settings, control, status, actor=actor, reason=reason, flatten=flatten)
    venue["in_flight"] = control.in_flight(status.session)
    return replace(control.status(status.session), venue=venue)


def _failed(error: str) -> dict[str, Any]:
    return {"cancelled": [], "failed": [], "flattened": [], "outcome": "failed", "error": error}


def _at_venue(
    settings: AppSettings, control: TraderControl, status: TraderStatus, *, actor: str, reason: str, flatten: bool
) -> dict[str, Any]:
    import ccxt

    from tradeops import audit
    from tradeops.trader.venue.kill import withdraw
    from tradeops.trader.venue.setup import venue_broker

    try:
        return withdraw(control.engine, venue_broker(settings), status, actor=actor, reason=reason, flatten=flatten)
    except (TradeopsError, ccxt.BaseError) as error:  # the venue could not be asked: the halt stands
        message = f"the venue could not be asked: {type(error).__name__}: {error}"
        audit.AuditLog(control.engine).record(
            actor=actor, action="venue.halt", target=status.session, outcome="failed", detail={"error": message}
        )
        return _failed(message)


def _through_trader(settings: AppSettings, url: str, reason: str, flatten: bool, session: str) -> dict[str, Any]:
    """Ask the trader service to halt (already done here: it answers `unchanged`) and cancel at the venue."""
    import httpx

    if flatten:
        return _failed("--flatten runs only where the venue can be reached: `tradeops trader halt --flatten`")
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    try:
        answer = httpx.post(
            f"{url.rstrip('/')}/v1/trader/state",
            json={"action": "halt", "reason": reason, "session": session},
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(deadline_seconds(settings) + MARGIN_SECONDS, connect=CONNECT_SECONDS),
        )
    except httpx.HTTPError as error:
        return _failed(f"the trader service at {url} did not answer: {type(error).__name__}: {error}")
    if answer.status_code != 200:
        return _failed(f"the trader service at {url} answered {answer.status_code}: {answer.text[:300]}")
    try:
        venue = answer.json().get("venue")
    except ValueError:
        venue = None
    if not isinstance(venue, dict):
        return _failed(f"the trader service at {url} trades no venue (its answer has no `venue`)")
    return venue


def venue_lines(report: dict[str, Any] | None) -> list[str]:
    """What the venue did on a halt, one line per order, for people (the CLI and the Slack bot)."""
    if report is None:
        return []
    lines = [f"cancelled {e['symbol']} {e['client_id']}" for e in report["cancelled"]]
    lines += [f"NOT cancelled {e['symbol']} {e['client_id']}: {e['error']}" for e in report["failed"]]
    lines += [
        f"in flight (sent before the halt, its fill is booked at its bar): {o}" for o in report.get("in_flight", [])
    ]
    for entry in report["flattened"]:
        done = f"sold {entry['size']} at {entry['price']}" if entry["filled"] else f"not sold: {entry['reason']}"
        lines.append(f"flatten {entry['symbol']}: {done}")
    if report.get("error"):
        lines.append(f"NOT cancelled: {report['error']}")
    elif report["outcome"] == "applied" and not lines:
        lines.append("the venue had no open orders")
    return lines
