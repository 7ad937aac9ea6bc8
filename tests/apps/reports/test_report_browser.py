"""The backtest report in chromium: zooming one chart over time zooms the others, the log switch works."""

from __future__ import annotations

import pytest

from tests.apps.dashboard.test_browser import SHOTS, TIMEOUT_MS, chromium_path
from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.reports import write_report
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params

LINKED = ("chart-price-0", "chart-equity", "chart-underwater", "chart-rolling")


@pytest.mark.req("DC-69")
def test_dc_69_zooming_the_price_zooms_equity_drawdown_and_rolling_and_log_scale_switches(goog, tmp_path):
    from playwright.sync_api import sync_playwright

    strategy = get_strategy("rsi_reversion")
    result = run_backtest(strategy, validate_params(strategy, {}), goog, ExecutionSettings())
    report = write_report(tmp_path / "report.html", result)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_selector("#chart-rolling .main-svg")
        page.evaluate("Plotly.relayout('chart-price-0', {'xaxis.range': ['2008-01-01', '2009-06-30']})")
        ranges = "ids => ids.map(id => document.getElementById(id).layout.xaxis.range.map(String))"
        page.wait_for_function(f"({ranges})({list(LINKED)!r}).every(r => r[0].startsWith('2008-01-01'))")
        shown = page.evaluate(f"({ranges})({list(LINKED)!r})")
        assert all(r[0].startswith("2008-01-01") and r[1].startswith("2009-06-30") for r in shown), shown
        page.locator("#chart-price-0").screenshot(path=str(_shot("report-price-zoomed.png")))
        page.locator("#chart-equity .updatemenu-button").nth(1).click()  # "log"
        page.wait_for_function("document.getElementById('chart-equity').layout.yaxis.type === 'log'")
        page.screenshot(path=str(_shot("report-full.png")), full_page=True)
        browser.close()
    assert errors == [], errors


def _shot(name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name
