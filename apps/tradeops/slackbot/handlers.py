"""Route a parsed command: what is answered at once, what runs in the background, and who may write."""

from __future__ import annotations

from collections.abc import Callable

from tradeops.slackbot import approve, killswitch, reads
from tradeops.slackbot.backtest import backtest_reply
from tradeops.slackbot.commands import Invocation, UsageError, help_text
from tradeops.slackbot.desk import Caller, Desk
from tradeops.slackbot.replies import Reply, verdict_lines
from tradeops.vcs.proposals import changes, propose_audited

Work = Callable[[], Reply]  # slow work: runs after the acknowledgement, its reply goes to response_url


def immediate(desk: Desk, invocation: Invocation, caller: Caller) -> Reply | Work:
    """A Reply to send at once, or the work to run in the background."""
    spec = invocation.spec
    if invocation.name == "help":
        return Reply(help_text(invocation.arg(0)))
    if spec.write and not desk.permissions.may_write(caller.user_id):
        desk.audit.record(
            actor=caller.actor,
            action=f"slack.{invocation.name}",
            target=_target(desk, invocation),
            outcome="denied",
            detail={"text": invocation.text, "user_name": caller.user_name, "channel": caller.channel},
        )
        return Reply(
            f":no_entry: `{invocation.name}` needs write permission, which <@{caller.user_id}> does not have; "
            "ask an admin to add you (or your user group) to TRADEOPS_SLACK_WRITERS"
        )
    if invocation.name in killswitch.WORDING:
        return killswitch.request(
            desk, invocation.name, invocation.text or killswitch.default_reason(invocation.name, caller), caller
        )
    if invocation.name == "approve":
        return approve.request(desk, str(invocation.arg(0)), invocation.arg(1) or approve.DEFAULT_STAGE, caller)
    return lambda: background(desk, invocation, caller)


def _target(desk: Desk, invocation: Invocation) -> str:
    if invocation.name == "approve":
        return str(invocation.arg(0))
    return "trader" if invocation.name in killswitch.WORDING else invocation.arg(0, desk.default_stack) or "?"


def background(desk: Desk, invocation: Invocation, caller: Caller) -> Reply:
    """Run a read command, a backtest or a proposal."""
    name, stack = invocation.name, invocation.arg(0, desk.default_stack) or desk.default_stack
    if name == "status":
        return reads.status(desk)
    if name == "params":
        return reads.params(desk, stack)
    if name == "verdict":
        return reads.verdict(desk, stack)
    if name == "releases":
        return reads.releases(desk, stack)
    if name == "backups":
        return reads.backups(desk)
    if name == "backtest":
        return backtest(desk, invocation)
    if name == "propose":
        return propose(desk, invocation, caller)
    raise UsageError(f"`{name}` has no handler")  # pragma: no cover - every SPECS entry is routed above


def backtest(desk: Desk, invocation: Invocation) -> Reply:
    data = invocation.options.get("data", "sample:GOOG")
    run = desk.backtester.run(str(invocation.arg(0)), invocation.assignments, str(data))
    return backtest_reply(run, desk.public_backtester_url)


def propose(desk: Desk, invocation: Invocation, caller: Caller) -> Reply:
    """Validate, gate, and with --pr open a pull request; every outcome is audited."""
    stack = str(invocation.arg(0))
    proposal = propose_audited(
        desk.proposer,
        desk.audit,
        action="slack.propose",
        actor=caller.actor,
        stack=stack,
        overrides=invocation.assignments,
        open_pr=bool(invocation.options.get("pr")),
        detail={"user_name": caller.user_name},
    )
    pull = proposal.pull_request
    lines = [f":memo: <@{caller.user_id}> proposes for `{stack}`: `{proposal.strategy}` {changes(proposal)}"]
    lines += verdict_lines(proposal.verdict)
    if pull:
        lines.append(f"pull request <{pull.url}|#{pull.number}> on branch `{proposal.branch}`")
    else:
        lines.append(f"nothing committed; add `--pr` to open a pull request: `/trading propose {invocation.text} --pr`")
    return Reply("\n".join(lines), visibility="in_channel")
