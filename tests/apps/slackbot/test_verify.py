"""Every request must carry a fresh, valid Slack signature: otherwise 401 and nothing happens."""

from __future__ import annotations

import hmac
import time

import pytest

from tests.apps.slackbot.conftest import SECRET, WRITER, sign
from tradeops.audit import AuditLog
from tradeops.errors import ConfigError
from tradeops.settings import load_settings
from tradeops.slackbot import create_app
from tradeops.slackbot.verify import RequestVerifier
from tradeops.store.database import open_engine


def headers(body: str, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp, secret),
    }


@pytest.mark.req("OE-3")
def test_oe_3_unsigned_badly_signed_and_replayed_requests_get_401_and_do_nothing(bot, tmp_path):
    body = bot.command_body("halt market chaos", WRITER, "trading", bot.fake.response_url())
    now = int(time.time())
    attempts = {
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
        "no timestamp": {"X-Slack-Signature": sign(body, now)},
        "wrong secret": headers(body, now, secret="0" * 32),
        "replayed 6 minutes later": headers(body, now - 360),
        "from the future": headers(body, now + 360),
        "timestamp not a number": headers(body, now) | {"X-Slack-Request-Timestamp": "yesterday"},
        "signature of another body": headers(body.replace("halt", "resume"), now),
        "truncated signature": headers(body, now) | {"X-Slack-Signature": sign(body, now)[:-1]},
    }
    for name, sent in attempts.items():
        for path in ("/slack/commands", "/slack/interactions"):
            answer = bot.post(path, body, headers=sent)
            assert answer.status_code == 401, (name, path, answer.text)
            assert answer.json() == {"error": "invalid or missing Slack signature"}
    # a changed body under a valid signature of the original is refused too
    tampered = bot.http.post("/slack/commands", content=body.replace("halt", "resume"), headers=headers(body, now))
    assert tampered.status_code == 401
    assert AuditLog(open_engine(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}")).entries() == []  # nothing done
    assert bot.fake.calls == []  # no reply posted anywhere
    # the same request, correctly signed and fresh, is answered; within the 5-minute window it still is
    assert bot.post("/slack/commands", body).status_code == 200
    assert bot.post("/slack/commands", body, timestamp=now - 290).status_code == 200
    metrics = bot.http.get("/metrics").text
    assert 'tradeops_slack_requests_total{kind="command",outcome="unverified"} 9.0' in metrics


@pytest.mark.req("OE-3")
def test_oe_3_signatures_are_compared_in_constant_time(monkeypatch):
    import slack_sdk.signature as signature

    compared: list[tuple[str, str]] = []
    constant_time = hmac.compare_digest

    def compare_digest(a: str, b: str) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", compare_digest)
    verifier = RequestVerifier(SECRET)
    now = int(time.time())
    good, bad = sign("text=status", now), "v0=" + "0" * 64
    assert verifier.is_valid(b"text=status", {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": good})
    assert not verifier.is_valid(b"text=status", {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": bad})
    assert compared == [(good, good), (good, bad)]  # the computed signature against the sent one, via compare_digest
    assert not verifier.is_valid(
        "é".encode("latin-1"), {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": bad}
    )


@pytest.mark.req("OE-3")
def test_oe_3_the_bot_refuses_to_start_without_a_signing_secret(tmp_path):
    with pytest.raises(ConfigError, match="TRADEOPS_SLACK_SIGNING_SECRET"):
        create_app(load_settings(data_dir=tmp_path))
    with pytest.raises(ConfigError, match="must not be empty"):
        RequestVerifier("  ")


@pytest.mark.req("DC-16")
def test_dc_16_an_exact_replay_of_a_signed_request_within_five_minutes_is_refused(bot):
    now = int(time.time())
    body = bot.command_body("help", WRITER, "trading", bot.fake.response_url())
    first = bot.post("/slack/commands", body, timestamp=now)
    assert first.status_code == 200, first.text
    replayed = bot.post("/slack/commands", body, timestamp=now)  # the same bytes, the same signature
    assert replayed.status_code == 401 and replayed.json() == {"error": "invalid or missing Slack signature"}
    assert bot.post("/slack/commands", body, timestamp=now - 1).status_code == 200  # a new signature is fresh


@pytest.mark.req("DC-16")
def test_dc_16_the_replay_cache_forgets_signatures_once_they_left_the_window():
    class Clock:
        at = 1_800_000_000.0

        def now(self) -> float:
            return self.at

    clock = Clock()
    verifier = RequestVerifier(SECRET, clock)
    for stamp in (int(clock.at) - i for i in range(50)):
        body = f"text=help&n={stamp}"
        sent = headers(body, stamp)
        assert verifier.is_valid(body.encode(), sent) and not verifier.is_valid(body.encode(), sent)
    assert len(verifier._seen) == 50
    clock.at += 2 * 300 + 1  # all of them are out of the window now; the next check sweeps them out
    body = "text=help&n=late"
    assert verifier.is_valid(body.encode(), headers(body, int(clock.at)))
    assert len(verifier._seen) == 1
