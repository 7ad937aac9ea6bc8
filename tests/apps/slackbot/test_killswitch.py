"""Halt, reduce-only and resume from Slack: a confirmation button, the clicker's permission, the trader's
state changed and every step in the audit log."""

from __future__ import annotations

import pytest

from tests.apps.slackbot.conftest import ADMIN, READER, WRITER, add_session
from tradeops.audit import AuditLog
from tradeops.errors import ConfigError
from tradeops.store.database import open_engine
from tradeops.trader.control import TraderControl


def buttons(answer: dict) -> dict[str, dict]:
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")
    return {button["action_id"]: button for button in actions["elements"]}


@pytest.mark.req("OE-3")
def test_oe_3_halt_and_resume_from_slack_change_the_trader_and_are_audited(make_bot, postgres_url):
    add_session(postgres_url)
    engine = open_engine(postgres_url)
    control, audit = TraderControl(engine), AuditLog(engine)
    with make_bot(database_url=postgres_url) as slack:
        answer, _ = slack.command("halt earnings call in 5 minutes", WRITER)
        body = answer.json()
        assert answer.status_code == 200 and body["response_type"] == "ephemeral"
        assert "Halt trading?" in body["text"] and "earnings call in 5 minutes" in body["text"]
        assert control.status().state == "running"  # nothing changes before the click
        confirm = buttons(body)["killswitch.confirm"]
        assert confirm["style"] == "danger" and confirm["text"]["text"] == "Confirm halt"

        clicked, response_url = slack.click(confirm, WRITER)
        assert clicked.status_code == 200
        message = slack.fake.replies(response_url)[0]
        assert message["response_type"] == "in_channel"
        assert "now *halted* (earnings call in 5 minutes)" in message["text"] and "drawdown 2.00%" in message["text"]
        status = control.status()
        assert (status.state, status.state_reason) == ("halted", "earnings call in 5 minutes")

        # a member of a writer user group resumes; the reason defaults to who did it
        answer, _ = slack.command("resume", ADMIN)
        clicked, response_url = slack.click(buttons(answer.json())["killswitch.confirm"], ADMIN)
        assert "now *running*" in slack.fake.replies(response_url)[0]["text"]
        assert control.status().state == "running"
        assert control.status().state_reason == "resume from Slack by u0admin"

    entries = [(e.actor, e.action, e.outcome) for e in reversed(audit.entries())]
    assert entries == [
        (f"slack:{WRITER}", "slack.halt", "confirmation-requested"),
        (f"slack:{WRITER}", "trader.halted", "applied"),
        (f"slack:{ADMIN}", "slack.resume", "confirmation-requested"),
        (f"slack:{ADMIN}", "trader.running", "applied"),
    ]
    halted = audit.entries(action_prefix="trader.halted")[0]
    assert halted.target == "paper-goog" and halted.detail == {
        "from": "running",
        "to": "halted",
        "reason": "earnings call in 5 minutes",
    }


@pytest.mark.req("OE-3")
def test_oe_3_write_commands_need_permission_and_denials_are_audited(bot, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}"
    add_session(database_url)
    engine = open_engine(database_url)
    control, audit = TraderControl(engine), AuditLog(engine)
    for text in ("halt", "reduce-only", "resume", "propose dev fast=12"):
        answer, response_url = bot.command(text, READER)
        assert answer.status_code == 200
        assert "needs write permission, which <@U0READER> does not have" in answer.json()["text"]
    # a reader clicking a writer's button is refused at the click too
    answer, _ = bot.command("reduce-only drawdown", WRITER)
    clicked, response_url = bot.click(buttons(answer.json())["killswitch.confirm"], READER)
    assert clicked.status_code == 200
    assert "may not reduce-only" in bot.fake.replies(response_url)[0]["text"]
    assert control.status().state == "running"
    # cancel is recorded, changes nothing
    _, response_url = bot.click(buttons(answer.json())["killswitch.cancel"], WRITER)
    assert "cancelled by <@U0WRITER>" in bot.fake.replies(response_url)[0]["text"]
    assert control.status().state == "running"
    outcomes = [(e.actor, e.action, e.target, e.outcome) for e in reversed(audit.entries())]
    assert outcomes == [
        ("slack:U0READER", "slack.halt", "trader", "denied"),
        ("slack:U0READER", "slack.reduce-only", "trader", "denied"),
        ("slack:U0READER", "slack.resume", "trader", "denied"),
        ("slack:U0READER", "slack.propose", "dev", "denied"),
        ("slack:U0WRITER", "slack.reduce-only", "trader", "confirmation-requested"),
        ("slack:U0READER", "slack.reduce-only", "trader", "denied"),
        ("slack:U0WRITER", "slack.reduce-only", "trader", "cancelled"),
    ]
    assert audit.entries(limit=1)[0].detail["user_name"] == "u0writer"
    # user group lookups go to Slack's usergroups.users.list with the bot token
    lookups = [c for c in bot.fake.calls if c["path"].endswith("usergroups.users.list")]
    assert lookups and lookups[0]["query"] == {"usergroup": "S0ADMINS"}
    assert lookups[0]["auth"] == "Bearer xoxb-fake-token"


@pytest.mark.req("OE-3")
def test_oe_3_a_kill_switch_without_a_session_says_so_and_is_audited(bot, tmp_path):
    answer, _ = bot.command("halt", WRITER)
    _, response_url = bot.click(buttons(answer.json())["killswitch.confirm"], WRITER)
    assert "Halt trading failed: no active trading session" in bot.fake.replies(response_url)[0]["text"]
    audit = AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}"))
    assert [e.outcome for e in audit.entries()] == ["failed", "confirmation-requested"]
    # a button that is not ours, or a broken payload
    forged = {"action_id": "killswitch.confirm", "text": {"type": "plain_text", "text": "x"}, "value": "{}"}
    _, response_url = bot.click(forged, WRITER)
    assert "not one of mine" in bot.fake.replies(response_url)[0]["text"]
    assert bot.post("/slack/interactions", "payload=not-json").status_code == 400
    other = {"action_id": "elsewhere.click", "text": {"type": "plain_text", "text": "x"}, "value": "1"}
    assert bot.click(other, WRITER)[0].status_code == 200


@pytest.mark.req("OE-3")
def test_oe_3_a_reason_too_long_for_a_button_is_refused_and_audited(bot, tmp_path):
    answer, _ = bot.command("halt " + "x" * 600, WRITER)
    assert answer.status_code == 200 and "keep it under 500" in answer.json()["text"]
    assert "blocks" not in answer.json() or not buttons(answer.json())
    audit = AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}"))
    (entry,) = audit.entries()
    assert (entry.action, entry.outcome) == ("slack.halt", "invalid") and len(entry.detail["reason"]) == 503


def started(control: TraderControl, session: str) -> bool:
    """The session exists and has traded a bar (its row appears once the service has started it)."""
    try:
        return control.status(session).last_bar >= 1
    except ConfigError:
        return False


@pytest.mark.req("DC-24")
def test_dc_24_a_halt_from_slack_on_a_venue_has_the_trader_cancel_its_open_orders(make_bot, tmp_path):
    """The bot may not reach the venue; the trader service, which holds the broker, cancels for it."""
    from tests.apps.trader.test_service import TOKEN, until
    from tests.apps.trader.venue_helpers import funded_venue, left_open, venue_settings, venue_trader
    from tests.fakes.servers import free_port

    fake = funded_venue()
    data_dir = tmp_path / "trader"
    database = f"sqlite:///{data_dir / 'tradeops.db'}"
    bot_settings = venue_settings(fake) | {"database_url": database, "api_token": TOKEN}
    try:
        with venue_trader(data_dir, fake, TOKEN, replay_speed=4) as trader_url:
            control, audit = TraderControl(open_engine(database)), AuditLog(open_engine(database))
            until(lambda: started(control, "svc"))
            left_open(fake, "manual-7")
            with make_bot(**bot_settings, trader_url=trader_url) as slack:
                answer, _ = slack.command("halt venue drill", WRITER)
                _, response_url = slack.click(buttons(answer.json())["killswitch.confirm"], WRITER)
                message = slack.fake.replies(response_url)[0]["text"]
            assert "now *halted* (venue drill)" in message and "cancelled BTC/USDT manual-7" in message
            assert fake.account.open_orders() == [] and control.status("svc").state == "halted"

            left_open(
                fake, "manual-8"
            )  # the trader cannot be reached: the halt stands and says the venue was not asked
            with make_bot(**bot_settings, trader_url=f"http://127.0.0.1:{free_port()}") as slack:
                answer, _ = slack.command("halt again", WRITER)
                _, response_url = slack.click(buttons(answer.json())["killswitch.confirm"], WRITER)
                message = slack.fake.replies(response_url)[0]["text"]
            assert "now *halted*" in message and "NOT cancelled: the trader service at http://127.0.0.1:" in message
            assert [o["clientOrderId"] for o in fake.account.open_orders()] == ["manual-8"]
    finally:
        fake.stop()
    entries = [(e.actor, e.action, e.outcome) for e in reversed(audit.entries()) if e.action != "venue.baseline"]
    assert (f"slack:{WRITER}", "trader.halted", "applied") in entries  # the clicker halted it
    assert entries.index((f"slack:{WRITER}", "trader.halted", "applied")) < entries.index(
        ("token:api-client", "venue.halt", "applied")
    )  # then the trader (as the bot's token) cancelled at the venue
