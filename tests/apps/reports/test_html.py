"""The HTML report is one self-contained file with plotly charts, metrics, trades and gate checks."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from html import unescape

import numpy as np
import pytest

from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.gate import run_gate, validate_candidate
from tradeops.reports import write_report
from tradeops.reports.html import fmt
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params

GATED = {
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 30},
    "thresholds": {
        "profitability": {"min_sharpe": 9},
        "safety": {"oos_train_fraction": 0.7, "min_oos_sharpe_ratio": 0.3, "lookahead_cuts": None},
    },
}


def decoded(value):
    """plotly writes numeric arrays as base64 typed arrays; plotly.js decodes them, so does this."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    if isinstance(value, dict):
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


def figure(page: str, name: str):
    found = re.search(rf'<script type="application/json" id="chart-{name}-figure">(.*?)</script>', page, re.S)
    assert found, f"no chart {name}"
    return decoded(json.loads(found.group(1).replace("<\\/", "</")))


def table_rows(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert body, f"no table {table_id}"
    return [
        [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ][1:]


def outside_plotly(page: str) -> str:
    return re.sub(r"<head>.*?</head>", "", page, flags=re.S)


@pytest.fixture(scope="module")
def gate_report(tmp_path_factory):
    verdict, result = run_gate(validate_candidate(GATED))
    path = write_report(tmp_path_factory.mktemp("gate") / "out" / "report.html", result, verdict)
    return path, verdict, result


@pytest.mark.req("DC-2", "DC-20")
def test_dc_2_dc_20_report_is_self_contained_with_charts_trades_and_checks(gate_report):
    path, verdict, result = gate_report
    page = path.read_text()
    assert page.count("plotly.js v") == 1  # the library inlined once
    assert not re.search(r"(src|href)=\"https?://", outside_plotly(page))
    assert len(table_rows(page, "trades")) == len(result.trades)
    assert [row[0] for row in table_rows(page, "checks")] == [c.name for c in verdict.checks]
    assert "FAILED" in page and 'class="fail">FAIL' in page
    for name in ("equity", "underwater", "price-0", "monthly", "rolling", "distribution"):
        assert figure(page, name)["data"], name
    assert result.bars.fingerprint() in page and "window 2004-08-19" in page  # provenance
    assert not list(path.parent.glob("*.partial"))


@pytest.mark.req("DC-20")
def test_dc_20_gate_report_chart_and_table_agree_on_every_number(gate_report):
    path, verdict, result = gate_report
    page = path.read_text()
    metrics = dict((row[0], row[1]) for row in table_rows(page, "metrics"))
    underwater = figure(page, "underwater")["data"][0]
    worst = -float(np.min(underwater["y"]))
    assert worst == pytest.approx(result.metrics["max_drawdown_pct"], rel=1e-12)
    assert metrics["max_drawdown_pct"] == fmt(worst) == "29.58"
    assert table_rows(page, "drawdowns")[0][3] == fmt(-worst)
    equity = figure(page, "equity")
    strategy, benchmark = equity["data"][0], equity["data"][1]
    assert float(np.max(strategy["y"])) == result.equity.max() and float(np.min(strategy["y"])) == result.equity.min()
    assert float(strategy["y"][-1]) / result.settings.cash * 100 - 100 == pytest.approx(
        result.metrics["total_return_pct"], rel=1e-12
    )
    assert float(benchmark["y"][-1]) / result.settings.cash * 100 - 100 == pytest.approx(
        result.metrics["buy_and_hold_return_pct"], rel=1e-12
    )
    split = next(c for c in verdict.checks if c.name == "min_oos_sharpe_ratio")
    drawn = next(shape["x0"] for shape in equity["layout"]["shapes"] if shape.get("name") == "out of sample")
    assert str(drawn)[:10] in split.detail  # the shaded out-of-sample part starts where the check cut
    for check, row in zip(verdict.checks, table_rows(page, "checks"), strict=True):
        assert row[2:5] == [fmt(check.value), fmt(check.limit), "pass" if check.passed else "FAIL"]
    markers = {trace.get("meta", {}).get("series"): trace for trace in figure(page, "price-0")["data"]}
    assert len(markers["entries"]["x"]) == len(result.trades) + len(result.open_trades)
    assert len(markers["exits"]["x"]) == len(result.trades)


@pytest.mark.req("DC-8")
def test_dc_8_report_escapes_names_and_handles_a_run_without_trades(tmp_path, goog):
    strategy = get_strategy("sma_cross")
    quiet = run_backtest(
        strategy, validate_params(strategy, {"fast": 30, "slow": 39}), goog.head(40), ExecutionSettings()
    )
    odd = replace(quiet, bars=replace(quiet.bars, name="<b>odd</b>"))
    page = write_report(tmp_path / "r.html", odd).read_text()
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd</b>" not in page
    assert "Trades (0 closed" in page and "n/a" in page
