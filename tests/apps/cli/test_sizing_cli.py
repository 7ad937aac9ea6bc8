"""A market priced above the cash: fractions by default for crypto, skipped entries counted, warned, gated and shown."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.apps.cli.test_cli import cli
from tradeops.cli.options import EXECUTION_OPTIONS
from tradeops.data.samples import BTC_TREND, crypto
from tradeops.engine.settings import ExecutionSettings

SMA = ["-s", "sma_cross", "-p", "fast=10", "-p", "slow=30"]


@pytest.fixture
def btc_30k(tmp_path):
    """BTC/USDT daily bars at 20,000-120,000 (the crypto sample around 30,000): one unit costs more than the cash."""
    frame = crypto(bars=700, seed=3)
    trend = np.exp(np.linspace(np.log(BTC_TREND[0]), np.log(BTC_TREND[1]), len(frame)))
    frame[["open", "high", "low", "close"]] = frame[["open", "high", "low", "close"]].mul(30_000 / trend, axis=0)
    assert frame["low"].min() > 12_000
    path = tmp_path / "btc-30k.csv"
    frame.to_csv(path, index=False)
    return str(path)


def backtest(monkeypatch, capsys, data: str, *options: str) -> tuple[dict, str]:
    code, out, err = cli(monkeypatch, capsys, "backtest", "run", *SMA, "-d", data, "--json", *options)
    assert code == 0, err
    return json.loads(out), err


@pytest.mark.req("DC-32")
def test_dc_32_a_market_priced_above_the_cash_trades_fractions_by_default(monkeypatch, capsys, btc_30k):
    payload, err = backtest(monkeypatch, capsys, btc_30k, "--no-store")
    metrics = payload["metrics"]
    assert metrics["trades"] > 10 and metrics["skipped_entries"] == 0
    assert payload["execution"]["lot_size"] == 0.0 and "skipped" not in err


@pytest.mark.req("DC-32")
def test_dc_32_whole_units_forced_on_it_count_and_warn_about_every_skipped_entry(monkeypatch, capsys, btc_30k):
    payload, err = backtest(monkeypatch, capsys, btc_30k, "--no-store", "--lot-size", "1")
    metrics = payload["metrics"]
    assert metrics["trades"] == 0 and metrics["skipped_entries"] > 10
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"{int(metrics['skipped_entries'])} entries skipped" in warnings[0]
    assert "--lot-size" in warnings[0]
    # buy and hold in the same whole units buys nothing either: no excess return invented by fractions
    assert metrics["buy_and_hold_return_pct"] == 0 and metrics["excess_return_pct"] == 0


@pytest.mark.req("DC-32")
def test_dc_32_the_gate_fails_skipped_entries_beyond_its_threshold(monkeypatch, capsys, btc_30k):
    gate = ["gate", *SMA, "-d", btc_30k, "--json", "--lot-size", "1", "-t", "lookahead_cuts=none"]
    code, out, err = cli(monkeypatch, capsys, *gate, "-t", "min_robust_share=none")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1 and not checks["max_skipped_entries"]["passed"] and checks["max_skipped_entries"]["limit"] == 0
    assert "entries skipped" in err
    code, out, _ = cli(monkeypatch, capsys, *gate, "-t", "min_robust_share=none", "-t", "max_skipped_entries=1000")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["max_skipped_entries"]["passed"]


@pytest.mark.req("DC-32")
def test_dc_32_runs_list_show_and_compare_show_the_execution_settings(monkeypatch, capsys):
    _, err = backtest(monkeypatch, capsys, "sample:GOOG", "--commission", "0.002", "--cash", "50000")
    costly = err.split("stored as run ")[1].split()[0]
    _, err = backtest(monkeypatch, capsys, "sample:GOOG")
    plain = err.split("stored as run ")[1].split()[0]
    code, out, _ = cli(monkeypatch, capsys, "runs", "list", "--json")
    shown = {item["id"]: item["execution"] for item in json.loads(out)["items"]}
    assert shown[costly].startswith("cash 50,000, commission 0.002, slippage 0, all_in, long_only, whole units")
    assert shown[plain].startswith("cash 10,000, commission 0, ")
    code, out, _ = cli(monkeypatch, capsys, "runs", "show", costly)
    assert code == 0 and "execution: cash 50,000, commission 0.002" in out
    monkeypatch.setenv("COLUMNS", "300")  # the execution cells unwrapped
    code, out, _ = cli(monkeypatch, capsys, "runs", "compare", costly, plain)
    assert code == 0 and "commission 0.002" in out and "commission 0," in out


@pytest.mark.req("DC-32")
def test_dc_32_every_execution_setting_is_a_command_line_option():
    assert set(EXECUTION_OPTIONS) == set(ExecutionSettings.model_fields)
    old = ExecutionSettings.model_validate({"fractional_units": True})  # candidate files and runs stored before
    assert old.lot_size == 0.0 and ExecutionSettings.model_validate({"fractional_units": False}).lot_size == 1.0


@pytest.mark.req("DC-32")
def test_dc_32_data_import_records_the_lot_size_and_minimum_a_backtest_then_uses(
    monkeypatch, capsys, tmp_path, btc_30k
):
    code, _, err = cli(monkeypatch, capsys, "data", "import", btc_30k, "--dataset", "btc-30k", "--lot-size", "0.001")
    assert code == 0, err
    payload, _ = backtest(monkeypatch, capsys, "dataset:btc-30k", "--no-store", "--min-size", "0.0005")
    assert (payload["execution"]["lot_size"], payload["execution"]["min_size"]) == (0.001, 0.0005)  # an option wins
    assert payload["metrics"]["trades"] > 10
