"""Dashboard pages in chromium for issue 30: errors are pages, and the run's trade table sorts and filters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.apps.dashboard import test_browser as shared
from tests.fakes.servers import uvicorn_server
from tradeops.settings import load_settings

browser = shared.browser  # chromium, as the other browser tests launch it


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """The browser tests' backtester and desk, its replayed trading session marked finished (as a replay ends)."""
    from sqlalchemy.orm import Session

    from tradeops.service.backtester import create_app
    from tradeops.store import RunStore
    from tradeops.store.models import TraderSessionRow

    settings = load_settings(data_dir=tmp_path_factory.mktemp("dashboard"), api_token=shared.TOKEN, workers=2)
    shared.seed(settings)
    store = RunStore(settings.resolved_database_url)
    with Session(store.engine) as db, db.begin():
        db.get(TraderSessionRow, "paper-goog").status = "finished"
    open_session(store.engine)
    store.close()
    with uvicorn_server(create_app(settings)) as base:
        yield base


def logged_in(browser, served) -> shared.Watched:
    watched = shared.Watched(browser, served)
    shared.log_in(watched, served)
    return watched


def open_session(engine) -> None:
    """A paper session replayed over GOOG's first 330 bars: long since bar 299, still open at its last bar."""
    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params
    from tradeops.trader.feed import ReplayFeed
    from tradeops.trader.loop import SessionConfig, Trader
    from tradeops.trader.risk import RiskLimits

    strategy = get_strategy("sma_cross")
    point = validate_params(strategy, {"fast": 10, "slow": 30})
    config = SessionConfig("paper-open", strategy, point, "sample:GOOG", ExecutionSettings(), RiskLimits())
    Trader(engine, config).run(ReplayFeed(load_bars("sample:GOOG").head(330)))


def submit_and_wait(page, served) -> None:
    """Send the new-run form and wait on the run's page until the run is done."""
    page.click("#submit-run")
    page.wait_for_url(f"{served}/ui/runs/*")
    page.wait_for_selector("#run-status.done")


@pytest.mark.req("DC-70")
def test_dc_70_an_unknown_run_and_an_empty_compare_render_pages_not_json(served, browser):
    watched = logged_in(browser, served)
    page = watched.page
    answer = page.goto(f"{served}/ui/runs/no-such-run")
    assert answer.status == 404 and "text/html" in answer.headers["content-type"]
    assert "no run no-such-run" in page.text_content("#error-message")
    assert page.locator("header a[href='/ui/']").count() == 1  # the navigation is there: a way back
    watched.shot("unknown-run.png")
    answer = page.goto(f"{served}/ui/compare")
    assert answer.status == 200 and "text/html" in answer.headers["content-type"]
    assert "pick two or more runs" in page.text_content("#compare-empty")
    watched.shot("compare-empty.png")
    answer = page.goto(f"{served}/ui/compare?run=nope&run=other")
    assert answer.status == 200 and "not found: nope, other" in page.text_content("#compare-missing")
    answer = page.goto(f"{served}/ui/?kind=bogus")
    assert answer.status == 422 and "text/html" in answer.headers["content-type"]
    assert "kind" in page.text_content("#error-message")
    watched.errors = [e for e in watched.errors if "status of 404" not in e and "status of 422" not in e]
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-70")
def test_dc_70_the_run_pages_trade_table_sorts_by_a_column_and_filters_by_text(served, browser):
    watched = logged_in(browser, served)
    page = watched.page
    shared.new_run(page, served, "10", "30")
    rows = page.locator("#trades tbody tr")
    total = rows.count()
    assert total > 10
    page.click("#trades th[data-key='pnl']")
    shown = [float(v.replace(",", "")) for v in page.locator("#trades tbody tr td:nth-child(6)").all_text_contents()]
    assert shown == sorted(shown)
    page.click("#trades th[data-key='pnl']")  # again: descending
    shown = [float(v.replace(",", "")) for v in page.locator("#trades tbody tr td:nth-child(6)").all_text_contents()]
    assert shown == sorted(shown, reverse=True)
    page.fill("#trades-filter", "2012-")
    visible = page.locator("#trades tbody tr:visible")
    assert 0 < visible.count() < total
    assert all("2012-" in text for text in visible.all_text_contents())
    assert page.text_content("#trades-count") == f"{visible.count()} of {total}"
    watched.shot("run-trades-sorted-filtered.png")
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-70")
def test_dc_70_the_new_run_form_takes_execution_settings_and_shows_booleans_as_checkboxes(served, browser):
    watched = logged_in(browser, served)
    page = watched.page
    page.goto(f"{served}/ui/new")
    page.select_option("#strategy", "ml_classifier")
    anchored = page.locator("[id='ml_classifier.anchored']")
    assert anchored.get_attribute("type") == "checkbox" and not anchored.is_checked()
    page.select_option("#strategy", "sma_cross")
    page.fill("[id='sma_cross.fast']", "10")
    page.fill("[id='sma_cross.slow']", "30")
    page.fill("[id='execution.cash']", "25000")
    page.fill("[id='execution.commission']", "0.001")
    page.select_option("[id='execution.direction']", "long_short")
    watched.shot("new-run-execution.png")
    submit_and_wait(page, served)
    shown = page.text_content("#execution")
    assert "cash 25,000" in shown and "commission 0.001" in shown and "long_short" in shown, shown
    page.goto(f"{served}/ui/new")
    page.fill("[id='execution.commission']", "0.5")
    page.click("#submit-run")
    assert "commission" in page.text_content("#form-errors")
    watched.expect_refusal(422)
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-70")
def test_dc_70_a_finished_session_never_shows_running_and_running_is_green(served, browser):
    watched = logged_in(browser, served)
    page = watched.page
    page.goto(f"{served}/ui/trader?session=paper-goog")  # the seeded replay ran to the end of its bars
    page.wait_for_selector("#trader-chart .main-svg")
    shown = page.locator("#trader-state")
    assert "session finished" in page.text_content("main")
    assert shown.text_content() == "FINISHED" and "RUNNING" not in page.text_content("main")
    watched.shot("trader-finished.png")
    colour = page.evaluate(
        "() => { const b = document.createElement('b'); b.className = 'state-running'; document.body.appendChild(b);"
        " return getComputedStyle(b).color; }"
    )
    assert colour == "rgb(23, 114, 69)"  # the running colour: green, as a done run; amber is for queued work
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-70")
def test_dc_70_a_sweeps_page_draws_the_heatmap_and_lists_every_point(served, browser):
    watched = logged_in(browser, served)
    page = watched.page
    page.goto(f"{served}/ui/new")
    page.select_option("#kind", "sweep")
    page.select_option("#strategy", "sma_cross")
    page.fill("[id='sma_cross.fast']", "5,10,15")
    page.fill("[id='sma_cross.slow']", "20,40")
    submit_and_wait(page, served)
    page.wait_for_selector("#chart-heatmap .main-svg")
    assert page.locator("#points tbody tr").count() == 6  # every point, not only the best five
    sharpe = [float(v) for v in page.locator("#points tbody tr td:nth-child(3)").all_text_contents()]
    assert sharpe == sorted(sharpe, reverse=True)
    watched.shot("sweep-every-point.png")
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-70")
def test_dc_70_orders_show_their_times_and_positions_their_entry_and_unrealised_pnl(served, browser, goog):
    from tradeops.engine import ExecutionSettings, run_backtest
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params

    strategy = get_strategy("sma_cross")
    backtest = run_backtest(strategy, validate_params(strategy, {"fast": 10, "slow": 30}), goog.head(330),
                            ExecutionSettings())  # fmt: skip
    held = backtest.open_trades.iloc[0]  # the same position the replayed session holds
    watched = logged_in(browser, served)
    page = watched.page
    page.goto(f"{served}/ui/trader?session=paper-open")
    page.wait_for_selector("#trader-chart .main-svg")
    header = page.locator("#positions th").all_text_contents()
    assert header == ["symbol", "position", "entry", "entry price", "unrealised pnl"]
    row = page.locator("#positions tbody tr").first.locator("td").all_text_contents()
    assert row[0] == "GOOG" and row[2].startswith(str(held["entry_time"].date()))
    assert float(row[3].replace(",", "")) == pytest.approx(held["entry_price"], rel=1e-3)
    assert float(row[4].replace(",", "")) == pytest.approx(held["pnl"], rel=1e-3)
    orders = page.locator("#orders th").all_text_contents()
    assert orders[:2] == ["decided", "filled"]
    first = page.locator("#orders tbody tr").first.locator("td").all_text_contents()
    assert first[0][:4] == "2005" and first[1][:4] == "2005"  # times, not bar numbers
    watched.shot("trader-open-position.png")
    assert watched.errors == [] and watched.outside == []


@pytest.mark.req("DC-70")
def test_dc_70_the_new_run_form_takes_a_date_range(served, browser):
    watched = logged_in(browser, served)
    page = watched.page
    page.goto(f"{served}/ui/new")
    page.select_option("#strategy", "sma_cross")
    page.fill("[id='window.start']", "2010-01-01")
    page.fill("[id='window.end']", "2011-12-31")
    submit_and_wait(page, served)
    entries = page.locator("#trades tbody tr td:nth-child(2)").all_text_contents()
    assert entries and all("2010-01-01" <= e[:10] <= "2011-12-31" for e in entries), entries
    assert "2010-01-04" in page.text_content("#window") and "2011-12-30" in page.text_content("#window")
    watched.shot("new-run-date-range.png")
    assert watched.errors == [] and watched.outside == []
