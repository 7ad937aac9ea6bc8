"""`/trading halt | reduce-only | resume`: a confirmation button first, then the kill switch, audited.

The command answers with Block Kit buttons; Slack sends the click to /slack/interactions, where the
clicker's permission is checked again before the state changes with the clicker as actor. A halt on a
venue also asks the trader service (`TRADEOPS_TRADER_URL`) to cancel the venue's open orders, and the
reply lists what it cancelled and what it could not.
"""

from __future__ import annotations

import json
from typing import Any

from tradeops.errors import ConfigError
from tradeops.slackbot.desk import Caller, Desk
from tradeops.slackbot.replies import Reply, confirmation_blocks, number, plain
from tradeops.trader.control import COMMANDS
from tradeops.trader.killswitch import halt, venue_lines

CONFIRM, CANCEL = "killswitch.confirm", "killswitch.cancel"
WORDING = {"halt": "Halt trading", "reduce-only": "Switch to reduce-only", "resume": "Resume trading"}


def confirmation(verb: str, reason: str) -> Reply:
    """The question with a Confirm and a Cancel button; the buttons carry the verb and the reason."""
    value = json.dumps({"verb": verb, "reason": reason})
    question = f"*{WORDING[verb]}?* Reason: {reason}"
    style = "primary" if verb == "resume" else "danger"
    blocks = confirmation_blocks(question, "killswitch", (CONFIRM, f"Confirm {verb}"), CANCEL, value, style)
    return Reply(f"{WORDING[verb]}? Reason: {reason}", blocks)


def default_reason(verb: str, caller: Caller) -> str:
    return f"{verb} from Slack by {caller.user_name or caller.user_id}"


MAX_REASON = 500  # the reason rides in the button's value, which Slack caps at 2,000 characters


def request(desk: Desk, verb: str, reason: str, caller: Caller) -> Reply:
    """Ask for confirmation (the request itself is audited)."""
    if len(reason) > MAX_REASON:
        desk.audit.record(
            actor=caller.actor,
            action=f"slack.{verb}",
            target="trader",
            outcome="invalid",
            detail={"reason": reason[:MAX_REASON] + "...", "error": "reason too long"},
        )
        raise ConfigError(f"the reason is {len(reason)} characters; keep it under {MAX_REASON}")
    desk.audit.record(
        actor=caller.actor,
        action=f"slack.{verb}",
        target="trader",
        outcome="confirmation-requested",
        detail={"reason": reason, "user_name": caller.user_name, "channel": caller.channel},
    )
    return confirmation(verb, reason)


def click(desk: Desk, action: dict[str, Any], caller: Caller) -> Reply:
    """Apply a confirmed change (or record a cancel); the reply replaces the buttons."""
    try:
        value = json.loads(action.get("value") or "{}")
        verb, reason = str(value["verb"]), str(value["reason"])
        state = COMMANDS[verb]
    except (ValueError, KeyError, TypeError):
        return Reply(":warning: this button is not one of mine", replace_original=True)
    detail = {"reason": reason, "user_name": caller.user_name, "channel": caller.channel}
    if action.get("action_id") == CANCEL:
        desk.audit.record(
            actor=caller.actor, action=f"slack.{verb}", target="trader", outcome="cancelled", detail=detail
        )
        return Reply(f"{WORDING[verb]}: cancelled by <@{caller.user_id}>", replace_original=True)
    if not desk.permissions.may_write(caller.user_id):
        desk.audit.record(actor=caller.actor, action=f"slack.{verb}", target="trader", outcome="denied", detail=detail)
        return Reply(f":no_entry: <@{caller.user_id}> may not {verb}: write permission required", replace_original=True)
    try:
        if verb == "halt":  # on a venue, the trader service also cancels its open orders (trader/killswitch.py)
            status = halt(
                desk.settings, desk.control, actor=caller.actor, reason=reason, trader_url=desk.settings.trader_url
            )
        else:
            status = desk.control.set_state(state, actor=caller.actor, reason=reason)  # audited as trader.<state>
    except Exception as error:  # noqa: BLE001 - e.g. no session, or the database is down: audited, answered
        desk.audit.record(
            actor=caller.actor,
            action=f"slack.{verb}",
            target="trader",
            outcome="failed",
            detail=detail | {"error": f"{type(error).__name__}: {error}"},
        )
        return Reply(f":warning: {WORDING[verb]} failed: {error}", replace_original=True)
    venue = venue_lines(status.venue)
    return Reply(
        f":rotating_light: <@{caller.user_id}>: trader `{status.session}` is now *{status.state}* ({reason}); "
        f"equity {number(status.equity)}, drawdown {number(status.drawdown_pct)}%"
        + (f"\nAt the venue:\n```{plain(chr(10).join(venue))}```" if venue else ""),
        visibility="in_channel",
        replace_original=True,
    )
