"""The dashboard in a real browser: Playwright driving Debian's chromium against a served backtester.

Screenshots go to reports/dashboard/ (git-ignored). Without chromium these tests FAIL: the setup installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.servers import uvicorn_server
from tradeops.reports.embed import plotly_asset
from tradeops.settings import load_settings

TOKEN = "browser-token-0123456789abcdef"
SHOTS = Path(__file__).resolve().parents[3] / "reports" / "dashboard"
TIMEOUT_MS = 180_000


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: `make setup` installs Debian's chromium for the browser tests")
    return found


def seed(settings: Any) -> None:
    """What the desk pages show: a replayed trading session, a release with its verdict, a verified backup."""
    from tradeops.backup import BackupRepository
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings
    from tradeops.releases import Release, ReleaseStore, Step
    from tradeops.store import RunStore, open_object_store
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params
    from tradeops.trader.feed import ReplayFeed
    from tradeops.trader.loop import SessionConfig, Trader
    from tradeops.trader.risk import RiskLimits

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = RunStore(settings.resolved_database_url)
    strategy = get_strategy("sma_cross")
    config = SessionConfig(
        "paper-goog",
        strategy,
        validate_params(strategy, {"fast": 10, "slow": 30}),
        "sample:GOOG",
        ExecutionSettings(),
        RiskLimits(),
    )
    trader = Trader(store.engine, config)
    trader.run(ReplayFeed(load_bars("sample:GOOG").head(400)))
    objects = open_object_store(settings.resolved_object_store, None)
    releases = ReleaseStore(objects)
    verdict = releases.save_verdict("dev", "v1", {"passed": True, "exit_code": 0, "checks": []})
    at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    for version, when in (("v1", at), ("v2", at + timedelta(days=1))):
        releases.save(
            Release(
                id=f"deploy-{version}",
                stack="dev",
                kind="deploy",
                version=version,
                git_sha=f"{version}0123456789abcdef",
                config={},
                gate_verdict_id=verdict.id,
                gate_passed=True,
                steps=[Step(name="gate", status="ok"), Step(name="up", status="ok")],
                result="succeeded",
                started_at=when,
                finished_at=when + timedelta(minutes=2),
                who="ci",
            )
        )
    repository = BackupRepository(settings.resolved_database_url, objects)
    repository.verify(repository.create(label="before browser test").id)
    store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    from tradeops.service.backtester import create_app

    settings = load_settings(data_dir=tmp_path_factory.mktemp("dashboard"), api_token=TOKEN, workers=2)
    seed(settings)
    with uvicorn_server(create_app(settings)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


class Watched:
    """A page whose console errors and requests leaving the server are recorded."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: None if r.url.startswith((base, "data:")) else self.outside.append(r.url))
        self.page.on("dialog", lambda d: d.accept())

    def expect_refusal(self, status: int) -> None:
        """The page just refused input with `status`: chromium logs exactly that, which is no page error."""
        assert self.errors == [
            f"Failed to load resource: the server responded with a status of {status} "
            f"({ {401: 'Unauthorized', 422: 'Unprocessable Entity'}[status] })"
        ], self.errors
        self.errors.clear()

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / name), full_page=True)


def log_in(watched: Watched, base: str) -> None:
    page = watched.page
    page.goto(f"{base}/ui/")
    assert page.url.endswith("/ui/login")
    page.fill("#name", "alice")
    page.fill("#token", "wrong")
    page.click("button[type=submit]")
    assert "wrong token" in page.text_content("#login-error")
    watched.expect_refusal(401)
    page.fill("#name", "alice")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")


def new_run(page: Any, base: str, fast: str, slow: str) -> str:
    page.goto(f"{base}/ui/new")
    page.select_option("#strategy", "sma_cross")
    page.fill("[id='sma_cross.fast']", fast)
    page.fill("[id='sma_cross.slow']", slow)
    page.click("#submit-run")
    page.wait_for_url(f"{base}/ui/runs/*")
    page.wait_for_selector("#run-status.done")
    page.wait_for_selector("#chart-equity .main-svg")
    return page.url.rsplit("/", 1)[1]


@pytest.mark.req("DC-19")
def test_dc_19_log_in_run_two_backtests_from_the_form_and_compare_them(served, browser):
    watched = Watched(browser, served)
    page = watched.page
    log_in(watched, served)
    cookie = next(c for c in watched.context.cookies() if c["name"] == "tradeops_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.goto(f"{served}/ui/new")
    page.fill("[id='sma_cross.fast']", "50")
    page.fill("[id='sma_cross.slow']", "30")
    page.click("#submit-run")
    assert "fast (50) must be less than slow (30)" in page.text_content("#form-errors")
    watched.expect_refusal(422)
    watched.shot("form-errors.png")
    first = new_run(page, served, "10", "30")
    assert page.locator("#chart-equity .main-svg").count() >= 1 and page.locator("#chart-underwater .main-svg").count()
    assert page.locator("#trades tr").count() > 10
    watched.shot("run.png")
    second = new_run(page, served, "5", "40")
    page.goto(f"{served}/ui/?sort=sharpe")
    page.check(f"input[value='{first}']")
    page.check(f"input[value='{second}']")
    page.click("#compare")
    page.wait_for_selector("#chart-overlay .main-svg")
    assert page.locator("#chart-overlay .scatterlayer .trace").count() == 2
    assert page.locator("#compare th a").count() == 2
    watched.shot("compare.png")
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-19")
def test_dc_19_the_kill_switch_halts_the_trader_and_the_audit_names_the_user(served, browser):
    watched = Watched(browser, served)
    page = watched.page
    log_in(watched, served)
    page.goto(f"{served}/ui/trader")
    page.wait_for_selector("#trader-chart .main-svg")
    assert page.text_content("#trader-state") == "RUNNING"
    page.select_option("#command", "halt")
    page.fill("#reason", "browser test: halt before the news")
    page.click("#kill-switch-submit")
    page.wait_for_selector("#trader-state.state-halted")
    first_audit = page.locator("#audit tr").nth(1).text_content()
    assert "ui:alice" in first_audit and "trader.halted" in first_audit and "before the news" in first_audit
    watched.shot("trader-halted.png")
    page.goto(f"{served}/ui/gate")
    assert page.text_content("code.rollback") == "tradeops rollback --stack dev --to v1"
    watched.shot("gate-releases.png")
    page.goto(f"{served}/ui/operations")
    assert "verified" in page.text_content("#backups") and "RTO" in page.text_content("#recovery")
    watched.shot("operations.png")
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-47")
def test_dc_47_the_csp_holds_in_chromium_with_the_plotly_charts_drawn(served, browser):
    watched = Watched(browser, served)
    page = watched.page
    log_in(watched, served)
    new_run(page, served, "10", "30")  # waits for plotly to draw the equity chart
    answer = page.reload()
    page.wait_for_selector("#chart-equity .main-svg")
    policy = answer.headers["content-security-policy"]
    assert "'nonce-" in policy and answer.headers["x-frame-options"] == "DENY"
    assert page.locator("#chart-underwater .main-svg").count() >= 1
    assert watched.errors == [], watched.errors  # chromium logs every CSP violation as a console error
    page.goto(f"{served}/ui/trader")
    page.wait_for_selector("#trader-chart .main-svg")
    assert watched.errors == [], watched.errors
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
                  " document.body.appendChild(s); }")  # fmt: skip
    assert page.evaluate("() => window.injected") is None  # a script without the nonce does not run
    assert any("Content Security Policy" in error for error in watched.errors), watched.errors


@pytest.mark.req("DC-49")
def test_dc_49_a_stored_report_draws_with_the_shared_plotly_and_a_cli_report_offline(served, browser, tmp_path):
    import subprocess
    import sys

    import httpx

    body = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}
    posted = httpx.post(f"{served}/v1/backtests", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    run = posted.json()["url"]
    watched = Watched(browser, served)
    page = watched.page
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.url) if r.request.resource_type == "script" else None)
    for _ in range(1200):
        view = httpx.get(f"{served}{run}", timeout=30).json()
        if view["status"] in ("done", "failed"):
            break
        page.wait_for_timeout(100)
    assert view["status"] == "done", view
    page.goto(f"{served}{view['report_url']}")
    page.wait_for_selector("#chart-equity .main-svg")
    assert page.locator(".chart .main-svg").count() >= 6
    assert [s.removeprefix(served) for s in scripts] == [f"/v1/assets/{plotly_asset()[0]}"]
    watched.shot("stored-report.png")
    assert watched.errors == [] and watched.outside == []

    report = tmp_path / "report.html"
    command = [sys.executable, "-m", "tradeops.cli", "backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG"]
    subprocess.run([*command, "--report", str(report)], check=True, capture_output=True, timeout=300)
    offline = browser.new_context(offline=True).new_page()
    errors: list[str] = []
    offline.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    offline.on("pageerror", lambda e: errors.append(str(e)))
    offline.goto(report.as_uri())
    offline.wait_for_selector("#chart-equity .main-svg", timeout=TIMEOUT_MS)
    assert offline.locator(".chart .main-svg").count() >= 6 and errors == []
    offline.context.close()
