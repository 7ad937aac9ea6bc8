"""Backtest-live parity: the paper trader, bar by bar through the ledger, equals `backtest run`."""

from __future__ import annotations

import json

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.trader.conftest import session_config
from tradeops.data import load_bars
from tradeops.engine import run_backtest
from tradeops.engine.result import result_to_dict
from tradeops.store.database import open_engine
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.result import session_result

CASES = [
    ("sample:GOOG", "sma_cross", {"fast": 10, "slow": 30}, {"commission": 0.002}),
    (
        "sample:synthetic?symbols=3&bars=400",
        "rsi_reversion",
        {},
        {"commission": 0.001, "slippage": 0.0005, "direction": "long_short"},
    ),
]


def replay(url: str, data: str, strategy: str, params: dict, execution: dict) -> tuple[dict, dict]:
    bars = load_bars(data)
    config = session_config("parity", strategy, params, data, **execution)
    engine = open_engine(url)
    Trader(engine, config).run(ReplayFeed(bars))
    paper = result_to_dict(session_result(engine, config, bars))
    backtest = result_to_dict(run_backtest(config.strategy, config.params, bars, config.execution))
    engine.dispose()
    return paper, backtest


@pytest.mark.req("DC-12", "DC-8")
@pytest.mark.parametrize(("data", "strategy", "params", "execution"), CASES, ids=["goog", "synthetic-3-symbols"])
def test_dc_12_dc_8_a_paper_replay_equals_the_backtest(tmp_path, data, strategy, params, execution):
    paper, backtest = replay(f"sqlite:///{tmp_path / 'ledger.db'}", data, strategy, params, execution)
    assert paper["trades"] and paper["trades"] == backtest["trades"]
    assert paper["open_trades"] == backtest["open_trades"]
    assert paper["final_equity"] == backtest["final_equity"]
    assert paper["metrics"] == backtest["metrics"]  # exact: the same accumulators in the same order


@pytest.mark.req("DC-12")
def test_dc_12_the_ledger_on_postgresql_gives_the_same_session(postgres_url):
    paper, backtest = replay(
        postgres_url, "sample:synthetic?symbols=2&bars=250", "sma_cross", {"fast": 5, "slow": 20}, {}
    )
    assert paper["trades"] == backtest["trades"] and paper["final_equity"] == backtest["final_equity"]


@pytest.mark.req("DC-12")
def test_dc_12_trader_replay_json_has_the_shape_of_backtest_run(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    args = ["--strategy", "donchian_breakout", "--data", "sample:synthetic?symbols=2&bars=300", "--commission", "0.001"]
    code, out, _ = cli(monkeypatch, capsys, "trader", "replay", *args, "--json")
    assert code == 0
    paper = json.loads(out)
    code, out, _ = cli(monkeypatch, capsys, "backtest", "run", *args, "--json")
    backtest = json.loads(out)
    session = paper.pop("session")
    assert session["id"].startswith("replay-") and session["state"] == "running" and session["orders"]["filled"] > 0
    assert paper == backtest
    code, out, _ = cli(monkeypatch, capsys, "trader", "replay", *args)  # a rerun reads the finished ledger
    assert code == 0 and "paper session" in out


@pytest.mark.req("DC-12", "DC-13")
def test_dc_12_dc_13_the_trader_loads_a_model_by_version_and_still_equals_the_backtest(tmp_path, monkeypatch):
    from tradeops.engine import ExecutionSettings
    from tradeops.gate.thresholds import Thresholds
    from tradeops.models.registry import default_registry
    from tradeops.models.training import train_version

    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    bars = load_bars("sample:GOOG").head(1150)
    card, _ = train_version(default_registry(), bars.head(1000), {"train_bars": 200}, ExecutionSettings(), Thresholds())
    config = session_config("ml", "ml_classifier", {"model": card.version, "threshold": 0.52}, "goog-1150")
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    Trader(engine, config).run(ReplayFeed(bars))
    paper = result_to_dict(session_result(engine, config, bars))
    backtest = result_to_dict(run_backtest(config.strategy, config.params, bars, config.execution))
    assert paper["trades"] and paper["trades"] == backtest["trades"]
    assert paper["final_equity"] == backtest["final_equity"] and paper["metrics"] == backtest["metrics"]
    assert all(trade["entry_time"] > bars.index[999].isoformat() for trade in paper["trades"])  # after training
