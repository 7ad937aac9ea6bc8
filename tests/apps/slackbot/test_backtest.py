"""`/trading backtest` runs on the real backtester API (uvicorn) and posts metrics and the report link."""

from __future__ import annotations

import httpx
import pytest

from tests.apps.service.conftest import TOKEN
from tests.apps.slackbot.conftest import READER
from tests.fakes.servers import uvicorn_server
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings


@pytest.mark.req("BT-5", "OE-3")
def test_bt_5_oe_3_a_backtest_from_slack_posts_metrics_and_the_report_link(make_bot, tmp_path):
    backtester = create_app(load_settings(data_dir=tmp_path / "backtester", api_token=TOKEN, workers=1))
    with (
        uvicorn_server(backtester) as api,
        make_bot(backtester_url=api, api_token=TOKEN, backtester_public_url="https://backtests.example.com") as slack,
    ):
        message = slack.result("backtest sma_cross fast=10 slow=30 --data=sample:GOOG", READER, timeout=120)
        assert message["response_type"] == "in_channel"
        text = message["text"]
        run_id = text.split("(run `")[1].split("`")[0]
        run = httpx.get(f"{api}/v1/backtests/{run_id}").json()
        assert run["status"] == "done" and run["params"] == {"fast": 10, "slow": 30}
        metrics = run["metrics"]
        assert f"• total_return_pct: {metrics['total_return_pct']:,.2f}" in text
        assert f"• sharpe: {metrics['sharpe']:,.2f}" in text
        assert f"• trades: {metrics['trades']:,.0f}" in text
        link = f"https://backtests.example.com/v1/backtests/{run_id}/report"
        assert f"<{link}|HTML report>" in text
        report = httpx.get(link.replace("https://backtests.example.com", api))
        assert report.status_code == 200 and "<html" in report.text.lower()

        refused = slack.result("backtest sma_cross fast=50 slow=30", READER)["text"]
        assert refused.startswith(":warning:") and "fast (50) must be less than slow (30)" in refused
        assert "unknown strategy 'nosuch'" in slack.result("backtest nosuch", READER)["text"]
        missing = slack.result("backtest sma_cross --data=sample:NOPE", READER)["text"]
        assert ":x: backtest `sma_cross` defaults on sample:NOPE: failed:" in missing
    with make_bot(backtester_url=api) as slack:  # the backtester is gone
        assert "backtester unreachable: ConnectError" in slack.result("backtest sma_cross", READER)["text"]
