"""Notifications: Slack through slack-sdk against a fake Web API, and the console default."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tradeops.notify import Message, open_notifier
from tradeops.notify.console import ConsoleNotifier
from tradeops.notify.messages import gate_verdict, regression, run_finished
from tradeops.notify.slack import SlackNotifier
from tradeops.settings import load_settings
from tradeops.store.runs import Run

pytestmark = pytest.mark.req("BT-5")


def slack(fake, **options) -> SlackNotifier:
    return SlackNotifier("xoxb-test-token", "#trading", base_url=fake.base_url, backoff_seconds=0.01, **options)


def make_run(**changes) -> Run:
    values = dict(
        id="r1",
        kind="gate",
        status="done",
        source="api",
        strategy="sma_cross",
        params={"fast": 10},
        request={},
        data_ref="sample:GOOG",
        data_fingerprint=None,
        engine_version="x",
        config_hash=None,
        owner=None,
        metrics={"sharpe": 1.2, "total_return_pct": 40.0, "max_drawdown_pct": 20.0, "trades": 12.0},
        verdict={
            "passed": False,
            "exit_code": 1,
            "checks": [
                {"name": "min_sharpe", "value": 1.2, "limit": 2.0, "passed": False},
                {"name": "min_trades", "value": 12.0, "limit": 10.0, "passed": True},
            ],
        },
        result=None,
        report_key=None,
        error=None,
        created_at=datetime.now(UTC),
        started_at=None,
        finished_at=None,
        duration_seconds=1.0,
    )
    return Run(**(values | changes))


def test_bt_5_messages_go_to_the_channel_as_block_kit_threaded_per_run(fake_slack):
    notifier = slack(fake_slack)
    notifier.send(run_finished(make_run()))
    notifier.send(gate_verdict(make_run()))
    notifier.close()
    first, second = fake_slack.posted()
    assert fake_slack.calls[0]["auth"] == "Bearer xoxb-test-token"
    assert first["channel"] == "#trading" and first["blocks"][0]["type"] == "section"
    assert "sharpe" in json.dumps(first["blocks"]) and "thread_ts" not in first
    assert second["thread_ts"] == "1700000000.000001"
    assert "FAILED min_sharpe: value 1.2, limit 2" in second["text"]
    assert notifier.sent == 2 and notifier.failed == 0


def test_bt_5_rate_limits_and_server_errors_are_retried(fake_slack):
    fake_slack.script.extend(["ratelimited", "server_error", "ok"])
    notifier = slack(fake_slack)
    notifier.send(Message(kind="test", title="hello"))
    notifier.close(timeout=30)
    assert [c["json"]["text"] for c in fake_slack.calls] == ["hello"] * 3
    assert notifier.sent == 1 and notifier.failed == 0


def test_bt_5_slack_errors_and_outages_are_counted_never_raised(fake_slack):
    fake_slack.script.append("channel_not_found")
    notifier = slack(fake_slack)
    notifier.send(Message(kind="test", title="lost"))
    notifier.close()
    assert notifier.failed == 1 and notifier.sent == 0
    dead = SlackNotifier("xoxb-t", "#c", base_url="http://127.0.0.1:9/api/", backoff_seconds=0.01)
    dead.send(Message(kind="test", title="nobody home"))
    dead.close(timeout=30)
    assert dead.failed == 1


def test_bt_5_sending_never_waits_for_slack(fake_slack):
    fake_slack.release.clear()  # the fake hangs every request until released
    notifier = slack(fake_slack, max_queue=2)
    for i in range(5):
        notifier.send(Message(kind="test", title=f"m{i}"))  # returns at once even though Slack is stuck
    assert notifier.sent == 0 and notifier.dropped >= 2
    fake_slack.release.set()
    notifier.close(timeout=30)
    assert notifier.sent + notifier.dropped == 5


def test_bt_5_console_notifier_writes_json_lines(tmp_path, capsys):
    path = tmp_path / "n.log"
    ConsoleNotifier(path).send(regression(make_run(), make_run(id="r0"), ["Sharpe fell"]))
    line = json.loads(path.read_text())
    assert line["kind"] == "regression" and line["lines"] == ["Sharpe fell"] and not line["ok"]
    ConsoleNotifier().send(Message(kind="k", title="t"))
    assert '"title": "t"' in capsys.readouterr().err


def test_bt_5_failed_runs_say_why(tmp_path):
    message = run_finished(make_run(status="failed", error="timed out after 5 s", metrics=None))
    assert not message.ok and message.lines == ["timed out after 5 s"] and "failed" in message.title


def test_bt_5_settings_choose_slack_only_with_token_and_channel(tmp_path, fake_slack):
    assert isinstance(open_notifier(load_settings(data_dir=tmp_path)), ConsoleNotifier)
    chosen = open_notifier(
        load_settings(data_dir=tmp_path, slack_token="xoxb-1", slack_channel="#c", slack_base_url=fake_slack.base_url)
    )
    assert isinstance(chosen, SlackNotifier)
    chosen.close()
