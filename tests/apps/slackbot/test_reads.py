"""The read commands, open to everyone in the channel: status, verdict, releases, backups, help; and the
health standard on the bot itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.apps.slackbot.conftest import READER, WRITER, add_session
from tests.fakes.servers import free_port
from tradeops.backup import BackupRepository
from tradeops.notify.console import ConsoleNotifier
from tradeops.releases import Release, ReleaseStore
from tradeops.store import RunStore, open_object_store
from tradeops.watch import ConfigWatcher


@pytest.fixture
def quiet_bot(make_bot):
    """A bot whose backtester is not running."""
    with make_bot(backtester_url=f"http://127.0.0.1:{free_port()}") as slack:
        yield slack


@pytest.mark.req("OE-3")
def test_oe_3_status_shows_services_version_and_the_traders_state_equity_and_drawdown(quiet_bot, tmp_path):
    text = quiet_bot.result("status", READER)["text"]
    assert "*tradeops* `dev`: slackbot" in text
    assert ":red_circle: backtester: unreachable" in text
    assert "trader: no active trading session" in text
    add_session(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}", state="reducing")
    text = quiet_bot.result("status", READER)["text"]
    assert "trader `paper-goog`: *reducing*, sma_cross fast=10 slow=30" in text
    assert "equity 10,290.00, drawdown 2.00%, positions: flat, last bar 41" in text


def gate(bot_dir, tmp_path, params: dict[str, int]) -> None:
    """A gate run as the in-cluster watcher records it."""
    candidate = tmp_path / f"candidate-{len(list(tmp_path.glob('candidate-*')))}.yaml"
    candidate.write_text(json.dumps({"strategy": "sma_cross", "params": params, "data": "sample:GOOG"}))
    store = RunStore(f"sqlite:///{bot_dir / 'tradeops.db'}")
    try:
        watcher = ConfigWatcher(candidate, store, open_object_store((bot_dir / "objects").as_uri()), ConsoleNotifier())
        assert watcher.poll_once() is not None
    finally:
        store.close()


@pytest.mark.req("OE-3")
def test_oe_3_verdict_shows_the_last_gate_checks_of_the_stacks_candidate(bot, tmp_path):
    assert bot.result("verdict", READER)["text"] == "no gate verdict yet"
    gate(tmp_path / "bot", tmp_path, {"fast": 5, "slow": 20})
    text = bot.result("verdict dev", READER)["text"]
    assert "of `sma_cross` fast=5 slow=20" in text and "no gate run of `dev`'s current candidate yet" in text
    gate(tmp_path / "bot", tmp_path, {"fast": 10, "slow": 30})
    gate(tmp_path / "bot", tmp_path, {"fast": 8, "slow": 20})
    text = bot.result("verdict dev", READER)["text"]
    assert "(watch, " in text and "of `sma_cross` fast=10 slow=30" in text and "current candidate" not in text
    assert "PASSED" in text or "FAILED" in text
    for name in ("min_trades", "min_sharpe", "max_drawdown_pct", "min_robust_share", "lookahead_cuts"):
        assert f"`{name}`" in text


@pytest.mark.req("OE-3")
def test_oe_3_releases_and_backups_come_from_the_object_store(bot, tmp_path):
    objects = open_object_store((tmp_path / "bot" / "objects").as_uri())
    assert bot.result("releases", READER)["text"] == "no releases recorded for `dev`"
    store = ReleaseStore(objects)
    for version, day, kind, result in (("v1.0.0", 2, "deploy", "succeeded"), ("v1.1.0", 5, "deploy", "failed")):
        at = datetime(2026, 1, day, 10, 0, tzinfo=UTC)
        store.save(
            Release(
                id=f"deploy-{version}", stack="dev", kind=kind, version=version, git_sha=f"{version}-sha", config={},
                gate_passed=True, result=result, failed_step="verify" if result == "failed" else None,
                started_at=at, finished_at=at, who="ci@github",
            )
        )  # fmt: skip
    text = bot.result("releases dev", READER)["text"]
    assert text.splitlines() == [
        "releases of `dev`, newest first:",
        "• `v1.1.0` deploy failed at verify, 2026-01-05 10:00 UTC by ci@github (gate passed)",
        "• `v1.0.0` deploy succeeded, 2026-01-02 10:00 UTC by ci@github (gate passed)",
    ]
    assert bot.result("releases prod", READER)["text"] == "no releases recorded for `prod`"

    assert bot.result("backups", READER)["text"] == ":warning: no backups yet"
    repository = BackupRepository(f"sqlite:///{tmp_path / 'bot' / 'tradeops.db'}", objects)
    first = repository.create()
    repository.verify(first.id)
    newest = repository.create(kind="restore-point", label="before v1.1.0")
    text = bot.result("backups", READER)["text"]
    assert f"last backup `{newest.id}` 0.0 h ago; RPO 0.0 h (newest verified), RTO" in text
    assert f"• `{newest.id}` restore-point" in text and "unverified" in text
    assert f"• `{first.id}` scheduled" in text and f"{first.size_bytes:,d} B verified" in text


@pytest.mark.req("OE-3")
def test_oe_3_help_usage_errors_and_the_channel_are_answered_at_once(bot):
    for text in ("", "help"):
        answer, _ = bot.command(text, READER)
        body = answer.json()
        assert body["response_type"] == "ephemeral" and body["text"].startswith("*/trading* commands")
        for name in (
            "status",
            "params",
            "verdict",
            "releases",
            "backups",
            "backtest",
            "propose",
            "halt",
            "reduce-only",
            "resume",
        ):
            assert f"• `{name}" in body["text"]
    assert "write permission required" in bot.command("help resume", READER)[0].json()["text"]
    assert "Example: `/trading backtest sma_cross" in bot.command("help backtest", READER)[0].json()["text"]
    refusals = {
        "launch rockets": "unknown command `launch`",
        "help launch": "unknown command `launch`",
        "status now": "too many arguments; usage: `/trading status`",
        "backtest": "missing arguments; usage: `/trading backtest STRATEGY",
        "backtest sma_cross --pr": "`--pr` is not an option of backtest",
        "params dev fast=3": "`fast=3` does not fit; usage: `/trading params [STACK]`",
        'propose dev "fast=3': "cannot read",
    }
    for text, reason in refusals.items():
        body = bot.command(text, READER)[0].json()
        assert body["text"].startswith(":warning:") and reason in body["text"], (text, body)
    body = bot.command("status", WRITER, channel="random")[0].json()
    assert body["text"] == ":warning: /trading works in #trading only"
    assert bot.post("/slack/commands", "ssl_check=1&token=x").status_code == 200
    assert bot.fake.calls == []  # nothing above went to the background


@pytest.mark.req("OE-5")
def test_oe_5_the_slackbot_serves_the_health_standard(bot):
    assert bot.http.get("/healthz").json() == {"status": "ok"}
    assert bot.http.get("/readyz").json() == {"status": "ready"}
    status = bot.http.get("/status").json()
    assert status["service"] == "slackbot" and set(status["checks"]) == {"database", "object_store"}
    assert datetime.fromisoformat(status["last_heartbeat"]) >= datetime.fromisoformat(status["started_at"])
    bot.command("help")
    metrics = bot.http.get("/metrics").text
    assert 'tradeops_ready{service="slackbot"} 1.0' in metrics
    assert 'tradeops_slack_requests_total{kind="help",outcome="answered"} 1.0' in metrics
    assert bot.http.get("/docs").status_code == 404  # no API browser on a public endpoint
