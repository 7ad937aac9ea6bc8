"""The backtest report's figures hold what a quant reads: checked on the figure data, not on the HTML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.apps.reports.test_html import figure, table_rows
from tradeops.data.load import frame_to_bars
from tradeops.data.samples import load_sample
from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.engine.settings import Direction
from tradeops.reports import write_report
from tradeops.reports.charts import MAX_POINTS
from tradeops.reports.price import MAX_MARKERS
from tradeops.reports.statistics import worst_drawdowns
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params


def backtest(name: str, bars, settings=None, **params):
    strategy = get_strategy(name)
    return run_backtest(strategy, validate_params(strategy, params), bars, settings or ExecutionSettings())


def page_of(result, tmp_path) -> str:
    return write_report(tmp_path / "report.html", result).read_text()


def traces(page: str, name: str) -> dict[str, dict]:
    return {trace.get("name", ""): trace for trace in figure(page, name)["data"]}


@pytest.fixture(scope="module")
def sma_page(goog, tmp_path_factory):
    result = backtest("sma_cross", goog, fast=10, slow=30)
    return result, page_of(result, tmp_path_factory.mktemp("sma"))


@pytest.mark.req("DC-69")
def test_dc_69_price_chart_draws_candles_volume_and_the_strategys_moving_averages(sma_page, goog):
    _, page = sma_page
    drawn = traces(page, "price-0")
    candles = drawn["price"]
    assert candles["type"] == "candlestick" and len(candles["x"]) == goog.n_bars
    assert candles["high"] == goog.high[:, 0].tolist() and candles["low"] == goog.low[:, 0].tolist()
    assert drawn["volume"]["type"] == "bar" and drawn["volume"]["yaxis"] == "y2"
    slow = drawn["SMA 30"]
    expected = pd.Series(goog.close[:, 0], index=goog.index).rolling(30).mean()
    shown = expected.loc[pd.DatetimeIndex(slow["x"])].to_numpy()
    values = np.array(slow["y"], dtype=float)
    assert np.allclose(values, shown, equal_nan=True)
    assert len(slow["x"]) <= MAX_POINTS + 2 and np.nanmax(values) == expected.max()  # thinned, extremes kept
    assert "SMA 10" in drawn


@pytest.mark.req("DC-69")
def test_dc_69_rsi_has_its_own_panel_with_its_bands_and_channels_sit_on_the_price(goog, tmp_path):
    rsi = traces(page_of(backtest("rsi_reversion", goog, window=14, lower=25, upper=75), tmp_path), "price-0")
    assert rsi["RSI 14"]["yaxis"] == "y3"
    bands = [rsi["RSI 14 25"], rsi["RSI 14 75"]]
    assert [t["y"] for t in bands] == [[25, 25], [75, 75]] and all(t["yaxis"] == "y3" for t in bands)
    channels = traces(
        page_of(backtest("donchian_breakout", goog, entry_window=20, exit_window=10), tmp_path), "price-0"
    )
    assert {"high 20", "low 20", "exit high 10", "exit low 10"} <= set(channels)
    assert channels["high 20"].get("yaxis", "y") == "y"


@pytest.mark.req("DC-69")
def test_dc_69_entries_and_exits_are_separate_series_thinned_to_the_bound_at_over_1000_trades(eurusd, tmp_path):
    result = backtest("sma_cross", eurusd, ExecutionSettings(direction=Direction.LONG_SHORT), fast=2, slow=3)
    every = pd.concat([result.trades, result.open_trades])
    assert len(every) > 1000
    drawn = figure(page_of(result, tmp_path), "price-0")["data"]
    entries = next(t for t in drawn if t.get("meta", {}).get("series") == "entries")
    exits = next(t for t in drawn if t.get("meta", {}).get("series") == "exits")
    assert entries["meta"]["total"] == len(every) and exits["meta"]["total"] == len(result.trades)
    assert 0 < len(entries["x"]) <= MAX_MARKERS and 0 < len(exits["x"]) <= MAX_MARKERS
    assert entries["name"] == f"entries ({len(entries['x'])} of {len(every)})"
    best = result.trades.loc[result.trades["return_pct"].abs().idxmax()]
    assert best["exit_price"] in exits["y"] and max(map(abs, exits["customdata"])) == abs(best["return_pct"])
    assert sorted(entries["x"]) == entries["x"]  # in time order


@pytest.mark.req("DC-69")
def test_dc_69_zoom_is_linked_equity_has_a_log_switch_and_the_worst_drawdowns_are_shaded(sma_page):
    result, page = sma_page
    for name in ("price-0", "equity", "underwater", "rolling"):
        assert figure(page, name)["layout"]["meta"] == {"link": "time"}, name
    equity = figure(page, "equity")["layout"]
    switch = [button["args"][0] for button in equity["updatemenus"][0]["buttons"]]
    assert switch == [{"yaxis.type": "linear"}, {"yaxis.type": "log"}]
    shaded = [(s["x0"][:10], s["x1"][:10]) for s in equity["shapes"] if s.get("name") == "drawdown"]
    worst = worst_drawdowns(result.equity)
    assert shaded == [(str(d["peak"].date()), str((d["recovered"] or result.equity.index[-1]).date())) for d in worst]
    assert "plotly_relayout" in page and "xaxis.range" in page  # the script that links them


@pytest.mark.req("DC-69")
def test_dc_69_trades_by_duration_excursions_and_yearly_returns_agree_with_the_run(sma_page, goog):
    result, page = sma_page
    scatter = traces(page, "pnl-duration")
    points = sum(len(t["x"]) for t in scatter.values())
    assert points == len(result.trades)
    held = (result.trades["exit_time"] - result.trades["entry_time"]).dt.total_seconds() / 86400
    assert sorted(x for t in scatter.values() for x in t["x"]) == pytest.approx(sorted(held))
    excursions = traces(page, "excursions")
    mae = [x for t in excursions.values() for x in t["x"]]
    mfe = [y for t in excursions.values() for y in t["y"]]
    assert len(mae) == len(result.trades) and max(mae) <= 0 <= min(mfe)
    first = result.trades.iloc[0]  # a long trade: its lowest low and highest high while held
    start, stop = goog.index.get_loc(first["entry_time"]), goog.index.get_loc(first["exit_time"])
    expected_mae = (goog.low[start : stop + 1, 0].min() / first["entry_price"] - 1) * 100
    rows = table_rows(page, "trades")
    assert float(rows[0][8]) == pytest.approx(min(expected_mae, 0), abs=0.01)
    yearly = traces(page, "yearly")["year"]
    growth = np.prod(1 + np.array(yearly["y"], dtype=float) / 100)
    assert (growth - 1) * 100 == pytest.approx(result.metrics["total_return_pct"], rel=1e-9)
    assert yearly["x"][0] == "2004" and yearly["x"][-1] == "2013"


@pytest.mark.req("DC-69")
def test_dc_69_rolling_sharpe_spans_six_months_of_time_and_draws_no_line_across_a_gap(tmp_path):
    frame = load_sample("GOOG", {})
    frame.columns = ["date", "open", "high", "low", "close", "volume"]
    frame = frame[(frame["date"] < "2008-01-01") | (frame["date"] >= "2008-04-01")]  # three months missing
    bars = frame_to_bars(frame, source="gappy", default_symbol="GOOG")
    page = page_of(backtest("sma_cross", bars, fast=10, slow=30), tmp_path)
    rolling = figure(page, "rolling")
    assert rolling["layout"]["title"]["text"] == "Rolling Sharpe (6 months)"
    trace = rolling["data"][0]
    times = pd.DatetimeIndex(trace["x"])
    values = np.array([np.nan if v is None else v for v in trace["y"]], dtype=float)
    first = times[np.flatnonzero(np.isfinite(values))[0]]
    assert first >= bars.index[0] + pd.Timedelta(days=182) and first - bars.index[0] < pd.Timedelta(days=190)
    hole = (times > pd.Timestamp("2007-12-31")) & (times < pd.Timestamp("2008-04-01"))
    assert np.isnan(values[hole]).any()  # a NaN sits in the hole, so plotly breaks the line there


@pytest.mark.req("DC-69")
def test_dc_69_trade_prices_are_written_at_the_instruments_precision(eurusd, tmp_path):
    result = backtest("sma_cross", eurusd.head(600), fast=5, slow=20)
    rows = table_rows(page_of(result, tmp_path), "trades")
    for row, trade in zip(rows, result.trades.itertuples(), strict=True):
        assert row[2] == f"{trade.entry_price:,.5f}" and row[4] == f"{trade.exit_price:,.5f}"
