"""Every alert expression parses as PromQL and uses only metrics the apps really export."""

from __future__ import annotations

import re
import time
from pathlib import Path

import helm_python as helm
import promql_parser
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.apps.service.conftest import AUTH, backtester, wait_for
from tradeops.backup import BackupRepository
from tradeops.data import load_bars
from tradeops.data.datasets import DatasetStore
from tradeops.data.imports import bars_to_frames
from tradeops.gate.verdict import Verdict
from tradeops.settings import load_settings
from tradeops.store import RunStore, open_object_store
from tradeops.store.stack_verdict import record_stack_verdict
from tradeops.trader.service import create_app as trader_app

CHART = Path(__file__).resolve().parents[2] / "charts" / "tradeops-alerts"
PROMETHEUS_BUILTINS = {"up"}


def alert_expressions() -> dict[str, str]:
    rendered = helm.Chart.load(str(CHART)).render(name="tradeops-alerts", namespace="tradeops-prod", is_install=True)
    rules = next(yaml.safe_load(t) for p, t in rendered.items() if p.endswith("rules.yaml"))
    return {r["alert"]: r["expr"] for r in rules["spec"]["groups"][0]["rules"]}


def exported_series(data: Path) -> set[str]:
    """Every sample name a running backtester and trader publish once they have done some work."""
    with backtester(data) as api:
        wait_for(api, api.post("/v1/gate", json={"strategy": "sma_cross"}, headers=AUTH).json()["url"])
        wait_for(api, api.post("/v1/backtests", json={"strategy": "sma_cross"}, headers=AUTH).json()["url"])
        texts = [api.get("/metrics").text]
        repository = BackupRepository(
            f"sqlite:///{data / 'tradeops.db'}", open_object_store((data / "objects").as_uri())
        )
        repository.verify(repository.create().id)
    stack_gate = RunStore.from_settings(load_settings(data_dir=data))  # the gate Job's verdict: the gate metric
    record_stack_verdict(stack_gate, None, Verdict(error="the candidate could not be read"))
    stack_gate.close()
    with backtester(data) as api:  # backup metrics are read when the service starts its collectors
        texts.append(api.get("/metrics").text)
    candidate = data / "candidate.yaml"
    candidate.write_text("strategy: sma_cross\ndata: sample:synthetic?bars=80\n")
    trader = trader_app(  # compared with its backtest, it publishes the divergence gauges too
        load_settings(
            data_dir=data, trader_candidate=candidate, trader_replay_speed=0, trader_risk={"divergence_every_bars": 5}
        )
    )
    with TestClient(trader) as api:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = api.get("/v1/trader/status")
            if status.status_code == 200 and status.json()["divergence"] is not None:
                break
            time.sleep(0.05)
        texts.append(api.get("/metrics").text)
    following = data / "following.yaml"  # a trader following a dataset also publishes its feed's gauges
    bars = load_bars("sample:synthetic?bars=80")
    DatasetStore(open_object_store((data / "objects").as_uri())).write(
        "synthetic-1d", bars_to_frames(bars), timeframe="1d", source="test"
    )
    following.write_text("strategy: sma_cross\ndata: dataset:synthetic-1d\n")
    settings = load_settings(
        data_dir=data, trader_candidate=following, trader_session="follow", trader_poll_seconds=0.05
    )
    with TestClient(trader_app(settings)) as api:
        deadline = time.monotonic() + 60
        while api.get("/v1/trader/status").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        texts.append(api.get("/metrics").text)
    return {s.name for text in texts for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.req("OE-4")
def test_oe_4_alert_expressions_parse_and_use_only_exported_metrics(tmp_path):
    expressions = alert_expressions()
    exported = exported_series(tmp_path / "data")
    for alert, expression in expressions.items():
        promql_parser.parse(expression)  # raises on a syntax error
        used = set(re.findall(r"\b(tradeops_[a-z0-9_]+|up)\b", expression))
        missing = used - exported - PROMETHEUS_BUILTINS
        assert not missing, f"{alert} uses {missing}, which no app exports"
    with pytest.raises(ValueError, match="unclosed"):
        promql_parser.parse("rate(tradeops_jobs_total[5m]")
