"""`tradeops_gate_last_passed` is the stack candidate's verdict (the gate Job's), never an ad-hoc gate run's."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH, backtester, wait_for

pytestmark = pytest.mark.req("DC-51")

CANDIDATE = ["--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30", "--data", "sample:GOOG"]
FAILING = {"profitability": {"min_sharpe": 9}}  # a Sharpe of 9 is out of reach: the verdict fails


def gate_metrics(api) -> dict[str, float]:
    text = api.get("/metrics").text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("tradeops_gate_")
    }


def stack_gate(monkeypatch, capsys, *extra: str) -> int:
    """Judge the candidate as the gate Job does: record the verdict as the stack's."""
    code, _, _ = cli(monkeypatch, capsys, "gate", *CANDIDATE, "--stack-verdict", "--json", *extra)
    return code


def ad_hoc_gate(api, thresholds: dict[str, object]) -> bool:
    """An exploratory gate over the API (what the MCP server and the Slack bot call)."""
    body = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}
    run = api.post("/v1/gate", json=body | {"thresholds": thresholds}, headers=AUTH).json()
    return bool(wait_for(api, run["url"])["verdict"]["passed"])


def test_dc_51_an_ad_hoc_failing_gate_leaves_the_stack_candidates_pass(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    assert stack_gate(monkeypatch, capsys) == 0
    with backtester(data) as api:
        assert gate_metrics(api)["tradeops_gate_last_passed"] == 1
        assert ad_hoc_gate(api, FAILING) is False
        after = gate_metrics(api)
    assert after["tradeops_gate_last_passed"] == 1  # the exploratory run is not the stack's candidate


def test_dc_51_an_ad_hoc_passing_gate_does_not_hide_a_failing_stack_candidate(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    assert stack_gate(monkeypatch, capsys, "--threshold", "min_sharpe=9") == 1
    with backtester(data) as api:
        assert gate_metrics(api)["tradeops_gate_last_passed"] == 0
        assert ad_hoc_gate(api, {}) is True
        after = gate_metrics(api)
    assert after["tradeops_gate_last_passed"] == 0


def test_dc_51_without_a_stack_verdict_there_is_no_gate_sample(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    with backtester(data) as api:
        assert ad_hoc_gate(api, FAILING) is False
        assert "tradeops_gate_last_passed" not in gate_metrics(api)  # nothing judged the stack's candidate yet


def test_dc_51_an_undecided_stack_verdict_counts_as_failed(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    code, out, _ = cli(
        monkeypatch, capsys, "gate", "--strategy", "sma_cross", "--data", "sample:NOSUCH", "--stack-verdict", "--json"
    )
    assert code == 2, out
    with backtester(data) as api:
        assert gate_metrics(api)["tradeops_gate_last_passed"] == 0  # a gate that could not decide is no pass


def test_dc_51_a_stack_verdict_that_cannot_be_recorded_is_undecided(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # the store cannot be opened under a file
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(blocked))
    code, out, _ = cli(monkeypatch, capsys, "gate", *CANDIDATE, "--stack-verdict", "--json")
    assert code == 2 and "could not be recorded as the stack's" in out  # never a pass the metric does not show
