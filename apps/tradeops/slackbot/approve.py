"""`/trading approve BUNDLE [STAGE]`: approve a bundle's promotion with a button; writers only, checked again
on the click; the approval (who, which bundle, which stage, when) goes beside the bundle, the steps to the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from tradeops.bundles import Approver, BundleStore
from tradeops.slackbot.desk import Caller, Desk
from tradeops.slackbot.replies import Reply, confirmation_blocks

CONFIRM, CANCEL = "approve.confirm", "approve.cancel"
DEFAULT_STAGE = "prod"


def request(desk: Desk, bundle: str, stage: str, caller: Caller) -> Reply:
    """The bundle's summary and an Approve button; an unknown bundle is a ConfigError (answered as an error)."""
    state = BundleStore(desk.objects).get(bundle)
    if not state.verified:
        return Reply(f":no_entry: bundle `{bundle}` is not verified (revoked or never gated): nothing to approve")
    content = state.content
    desk.audit.record(
        actor=caller.actor,
        action="slack.approve",
        target=bundle,
        outcome="confirmation-requested",
        detail={"stage": stage, "user_name": caller.user_name, "channel": caller.channel},
    )
    value = json.dumps({"bundle": bundle, "stage": stage})
    summary = (
        f"*Approve bundle `{bundle}` for {stage}?*\n"
        f"`{content.candidate.get('strategy')}` {json.dumps(content.candidate.get('params', {}))} "
        f"on {content.dataset.ref}, commit `{content.git_sha[:12]}`, verdict `{content.verdict_id}`"
    )
    blocks = confirmation_blocks(summary, "approve", (CONFIRM, f"Approve for {stage}"), CANCEL, value)
    return Reply(summary.replace("*", ""), blocks)


def click(desk: Desk, action: dict[str, Any], caller: Caller) -> Reply:
    """Record the approval as the clicker (only a writer); a cancel is recorded and changes nothing."""
    try:
        value = json.loads(action.get("value") or "{}")
        bundle, stage = str(value["bundle"]), str(value["stage"])
    except (ValueError, KeyError, TypeError):
        return Reply(":warning: this button is not one of mine", replace_original=True)
    detail = {"stage": stage, "user_name": caller.user_name, "channel": caller.channel}

    def audit(outcome: str, **more: Any) -> None:
        desk.audit.record(
            actor=caller.actor, action="slack.approve", target=bundle, outcome=outcome, detail=detail | more
        )

    if action.get("action_id") == CANCEL:
        audit("cancelled")
        return Reply(f"approval of `{bundle}`: cancelled by <@{caller.user_id}>", replace_original=True)
    if not desk.permissions.may_write(caller.user_id):
        audit("denied")
        return Reply(
            f":no_entry: <@{caller.user_id}> may not approve: write permission required", replace_original=True
        )
    try:
        bundles = BundleStore(desk.objects)
        if not bundles.get(bundle).verified:  # revoked since the question was asked
            audit("refused", error="bundle not verified")
            return Reply(f":no_entry: bundle `{bundle}` is no longer verified: not approved", replace_original=True)
        approval = bundles.approve(bundle, stage, Approver.slack(caller.user_id))
    except Exception as error:  # noqa: BLE001 - e.g. the object store is down: audited, answered
        audit("failed", error=f"{type(error).__name__}: {error}")
        return Reply(f":warning: approval of `{bundle}` failed: {error}", replace_original=True)
    audit("approved", at=approval.at.isoformat())
    return Reply(
        f":white_check_mark: <@{caller.user_id}> approved bundle `{bundle}` for {stage} "
        f"at {approval.at:%Y-%m-%d %H:%M} UTC",
        visibility="in_channel",
        replace_original=True,
    )
