"""Approving a bundle's promotion from Slack (DC-22): a button, writers only, checked again on the click, audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.apps.slackbot.conftest import ADMIN, READER, WRITER
from tests.apps.slackbot.test_killswitch import buttons
from tradeops.audit import AuditLog
from tradeops.bundles import BundleContent, BundleStore, DatasetRef, Verification
from tradeops.store import open_object_store
from tradeops.store.database import open_engine

CONTENT = BundleContent(
    image="ghcr.io/tradeops-desk/tradeops@sha256:" + "ab" * 32,
    git_sha="0123456789abcdef0123456789abcdef01234567",
    candidate={"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"},
    risk={"max_drawdown_pct": 25.0},
    dataset=DatasetRef(ref="sample:GOOG", fingerprint="f" * 64),
    verdict_id="verdict-20260301T000000000000Z-abcdef",
)


@pytest.mark.req("DC-22", "DC-59")
def test_dc_22_dc_59_a_writer_approves_a_bundle_with_a_button_readers_are_refused_at_the_click(bot, tmp_path):
    bundles = BundleStore(open_object_store((tmp_path / "bot" / "objects").as_uri()))
    verification = Verification(
        bundle_id=CONTENT.id, stack="staging", verdict_id=CONTENT.verdict_id, passed=True, at=datetime.now(UTC)
    )
    bundles.save(CONTENT, verification)
    audit = AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}"))

    answer, _ = bot.command(f"approve {CONTENT.id}", READER)
    assert "needs write permission" in answer.json()["text"]
    answer, _ = bot.command("approve bundle-000000000000000000000000", WRITER)
    assert "no bundle 'bundle-000000000000000000000000'" in answer.json()["text"]

    answer, _ = bot.command(f"approve {CONTENT.id}", WRITER)
    body = answer.json()
    assert f"Approve bundle `{CONTENT.id}` for prod?" in body["blocks"][0]["text"]["text"]
    assert "commit `0123456789ab`" in body["text"]
    confirm = buttons(body)["approve.confirm"]
    assert bundles.get(CONTENT.id).approvals == []  # nothing before the click

    _, response_url = bot.click(confirm, READER)  # a reader clicking a writer's button
    assert "may not approve" in bot.fake.replies(response_url)[0]["text"]
    _, response_url = bot.click(buttons(body)["approve.cancel"], WRITER)
    assert "cancelled by <@U0WRITER>" in bot.fake.replies(response_url)[0]["text"]
    assert bundles.get(CONTENT.id).approvals == []

    _, response_url = bot.click(confirm, ADMIN)  # a member of a writer group
    message = bot.fake.replies(response_url)[0]
    assert message["response_type"] == "in_channel" and f"approved bundle `{CONTENT.id}` for prod" in message["text"]
    (approval,) = bundles.get(CONTENT.id).approvals
    assert (approval.who, approval.stage, approval.source) == (f"slack:{ADMIN}", "prod", "slack")
    assert approval.evidence == f"Slack request signed with the app's signing secret by {ADMIN}"  # verified: counts

    answer, _ = bot.command(f"approve {CONTENT.id}", WRITER)  # asked while verified ...
    bundles.record(verification.model_copy(update={"passed": False, "reason": "failed on fresher data"}))
    _, response_url = bot.click(buttons(answer.json())["approve.confirm"], WRITER)  # ... clicked once revoked
    assert "no longer verified: not approved" in bot.fake.replies(response_url)[0]["text"]
    assert len(bundles.get(CONTENT.id).approvals) == 1
    answer, _ = bot.command(f"approve {CONTENT.id}", WRITER)
    assert "is not verified" in answer.json()["text"]

    outcomes = [(e.actor, e.action, e.target, e.outcome) for e in reversed(audit.entries(action_prefix="slack."))]
    assert outcomes == [
        (f"slack:{READER}", "slack.approve", CONTENT.id, "denied"),
        (f"slack:{WRITER}", "slack.approve", CONTENT.id, "confirmation-requested"),
        (f"slack:{READER}", "slack.approve", CONTENT.id, "denied"),
        (f"slack:{WRITER}", "slack.approve", CONTENT.id, "cancelled"),
        (f"slack:{ADMIN}", "slack.approve", CONTENT.id, "approved"),
        (f"slack:{WRITER}", "slack.approve", CONTENT.id, "confirmation-requested"),
        (f"slack:{WRITER}", "slack.approve", CONTENT.id, "refused"),
    ]
