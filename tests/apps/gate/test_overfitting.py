"""How the candidate was found: deflated Sharpe (DC-41), PBO by CSCV (DC-42), and the champion check (DC-43)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pipelines.stages.comment import comment_body

from tests.apps.cli.test_cli import cli
from tests.apps.notify.test_notifiers import make_run
from tradeops.bundles import BundleContent, BundleStore, DatasetRef
from tradeops.data import load_bars
from tradeops.engine import ExecutionSettings, run_grid
from tradeops.errors import ConfigError
from tradeops.gate import Champion, run_gate, running_champion, validate_candidate
from tradeops.gate.overfitting import deflated_sharpe, expected_max_sharpe, probability_of_overfitting
from tradeops.notify.messages import gate_verdict
from tradeops.releases import Release, ReleaseStore
from tradeops.reports import write_report
from tradeops.store.objects import FolderObjectStore
from tradeops.strategies import get_strategy
from tradeops.strategies.base import expand_grid

# 20 x 10 = 200 points, every one valid (fast < slow)
GRID = {"fast": list(range(2, 22)), "slow": list(range(30, 130, 10))}
SELECTION = ("min_deflated_sharpe", "max_pbo", "champion")


def walk_csv(path, seed: int, edge: float = 0.0, bars: int = 2520) -> str:
    """A seeded geometric random walk (daily vol 1.2%); `edge` plants a drift cycling every 250 bars."""
    rng = np.random.default_rng(seed)
    drift = edge * np.sin(2 * np.pi * np.arange(bars) / 250)
    close = 100 * np.exp(np.cumsum(drift + rng.standard_normal(bars) * 0.012))
    previous = np.concatenate([[100.0], close[:-1]])
    frame = pd.DataFrame(
        {
            "timestamp": pd.bdate_range("2010-01-04", periods=bars),
            "open": previous,
            "high": np.maximum(previous, close) * 1.002,
            "low": np.minimum(previous, close) * 0.998,
            "close": close,
            "volume": 1e6,
        }
    )
    frame.to_csv(path, index=False)
    return str(path)


def best_of_sweep(data: str) -> dict:
    """The sweep's best point by Sharpe, written as the candidate a sweep records (provenance: its grid)."""
    strategy = get_strategy("sma_cross")
    points, invalid = expand_grid(strategy, {}, GRID)
    assert len(points) == 200 and invalid == 0
    table = run_grid(strategy, points, load_bars(data), ExecutionSettings())
    best = table.sort_values("sharpe", ascending=False).iloc[0]
    return {
        "strategy": "sma_cross",
        "params": {"fast": int(best["fast"]), "slow": int(best["slow"])},
        "data": data,
        "provenance": {"method": "sweep", "trials": 200, "grid": GRID},
    }


def by_name(verdict) -> dict:
    return {c.name: c for c in verdict.checks}


@pytest.mark.req("DC-41")
def test_dc_41_deflated_sharpe_reproduces_the_papers_worked_example():
    # Bailey and López de Prado (2014), "The Deflated Sharpe Ratio", section 5 (numerical example): 100 trials
    # whose annualised Sharpe ratios vary by V = 1/2, the best at 2.5 a year over T = 1250 daily returns,
    # skewness -3, kurtosis 10. The paper gives E[max SR] ~ 0.1132 (per day) and DSR ~ 0.9004.
    variance = 0.5 / 250
    sharpe = 2.5 / np.sqrt(250)
    assert round(expected_max_sharpe(100, variance), 4) == 0.1132
    value = deflated_sharpe(sharpe, trials=100, sharpe_variance=variance, n_obs=1250, skew=-3, kurtosis=10)
    assert round(value, 4) == 0.9004


@pytest.mark.req("DC-41")
@given(
    sharpe=st.floats(0.01, 0.3),
    variance=st.floats(1e-5, 1e-2),
    n_obs=st.integers(50, 5000),
    skew=st.floats(-2, 2),
    trials=st.integers(1, 10_000),
)
def test_dc_41_deflated_sharpe_falls_as_trials_grow_all_else_equal(sharpe, variance, n_obs, skew, trials):
    def dsr(n: int) -> float:
        return deflated_sharpe(sharpe, trials=n, sharpe_variance=variance, n_obs=n_obs, skew=skew, kurtosis=4.0)

    assert dsr(trials + 1) <= dsr(trials)
    assert dsr(trials * 10 + 2) < dsr(trials) or dsr(trials) < 1e-12 or dsr(trials * 10 + 2) > 1 - 1e-12


@pytest.mark.req("DC-42")
def test_dc_42_pbo_reproduces_an_independent_implementation_on_fixed_matrices():
    # Expected values computed with esvhd/pypbo (github.com/esvhd/pypbo, commit ddbc631, `pbo(M, S, metric_func=
    # Sharpe with ddof=1)`), an independent implementation of Bailey, Borwein, López de Prado and Zhu (2015),
    # on the same seeded matrices: 11/70, 2835/12870 and 116/252 of the combinations have a logit <= 0.
    rng = np.random.default_rng(2015)
    drifting = rng.normal(0.0, 0.01, size=(1003, 12)) + np.linspace(0.0, 0.0011, 12)
    assert probability_of_overfitting(drifting, 8).pbo == pytest.approx(0.15714285714285714, abs=1e-15)
    estimate = probability_of_overfitting(drifting, 16)
    assert estimate.combinations == 12870 and estimate.pbo == pytest.approx(0.2202797202797203, abs=1e-15)
    noise = np.random.default_rng(7).normal(0.0, 0.01, size=(600, 20))
    assert probability_of_overfitting(noise, 10).pbo == pytest.approx(0.4603174603174603, abs=1e-15)


@pytest.mark.req("DC-42")
def test_dc_42_pbo_refuses_an_odd_split_count_or_a_single_trial():
    matrix = np.random.default_rng(1).normal(size=(100, 3))
    with pytest.raises(ConfigError, match="even"):
        probability_of_overfitting(matrix, 7)
    with pytest.raises(ConfigError, match="2 trials"):
        probability_of_overfitting(matrix[:, :1], 8)
    with pytest.raises(ConfigError, match="pbo_splits"):
        validate_candidate({"strategy": "sma_cross", "thresholds": {"selection": {"pbo_splits": 5}}})


@pytest.mark.req("DC-41", "DC-42")
def test_dc_41_dc_42_the_best_of_a_200_point_sweep_on_noise_passes_todays_checks_but_not_dsr_or_pbo(tmp_path):
    candidate = validate_candidate(best_of_sweep(walk_csv(tmp_path / "noise.csv", seed=3)))
    verdict, result = run_gate(candidate)
    today = [c for c in verdict.checks if c.name not in SELECTION]
    assert all(c.passed for c in today), [c for c in today if not c.passed]
    assert result.metrics["sharpe"] > 0.5
    checks = by_name(verdict)
    assert not checks["min_deflated_sharpe"].passed and checks["min_deflated_sharpe"].value < 0.95
    assert not checks["max_pbo"].passed and checks["max_pbo"].value > 0.2
    assert "best of 200 trials (sweep)" in checks["min_deflated_sharpe"].detail
    assert verdict.exit_code == 1
    hand = validate_candidate({**best_of_sweep(str(tmp_path / "noise.csv")), "provenance": {"trials": 1}})
    hand_checks = by_name(run_gate(hand)[0])  # the same point declared as written by hand: nothing to deflate
    assert hand_checks["min_deflated_sharpe"].value > checks["min_deflated_sharpe"].value
    assert "written by hand" in hand_checks["max_pbo"].detail and hand_checks["max_pbo"].passed


@pytest.mark.req("DC-41", "DC-42", "DC-43")
def test_dc_41_dc_42_dc_43_a_planted_edge_passes_all_three(tmp_path):
    candidate = validate_candidate(best_of_sweep(walk_csv(tmp_path / "edge.csv", seed=102, edge=0.005)))
    verdict, _ = run_gate(candidate)
    checks = by_name(verdict)
    assert verdict.passed, [c for c in verdict.checks if not c.passed]
    assert checks["min_deflated_sharpe"].value >= 0.95 and checks["max_pbo"].value <= 0.2
    assert checks["champion"].passed and "first deploy" in checks["champion"].detail


@pytest.mark.req("DC-41")
def test_dc_41_a_candidate_without_provenance_loads_as_one_trial_and_hand_written_refuses_more():
    candidate = validate_candidate({"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}})
    assert candidate.provenance.trials == 1 and candidate.provenance.method == "hand"
    assert "provenance" not in candidate.model_dump()  # an older candidate's bundle hash does not move
    with pytest.raises(ConfigError, match="by hand is one trial"):
        validate_candidate({"strategy": "sma_cross", "provenance": {"trials": 5}})
    with pytest.raises(ConfigError, match="trials"):
        validate_candidate({"strategy": "sma_cross", "provenance": {"method": "sweep", "trials": 0}})


def _deploy(objects: FolderObjectStore, stack: str, params: dict, data: str) -> str:
    candidate = {"strategy": "sma_cross", "params": params, "data": data}
    content = BundleContent(
        image="ghcr.io/acme/tradeops@sha256:" + "0" * 64,
        git_sha="a" * 40,
        candidate=candidate,
        risk={},
        dataset=DatasetRef(ref=data),
        verdict_id="verdict-1",
    )
    BundleStore(objects).save(content)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    ReleaseStore(objects).save(
        Release(
            id="deploy-v1",
            stack=stack,
            kind="deploy",
            version="v1",
            git_sha="a" * 40,
            config={"candidate": {}},
            result="succeeded",
            started_at=at,
            finished_at=at,
            who="ci",
            bundle_id=content.id,
        )
    )
    return content.id


@pytest.mark.req("DC-43")
def test_dc_43_a_better_running_bundle_fails_the_candidate_and_a_worse_one_passes_it(tmp_path):
    data = walk_csv(tmp_path / "edge.csv", seed=102, edge=0.005)
    strong, weak = {"fast": 2, "slow": 30}, {"fast": 60, "slow": 125}  # in and out of phase with the cycle
    objects = FolderObjectStore(tmp_path / "objects")
    assert running_champion("staging", objects) is None  # first deploy: nothing runs
    bundle = _deploy(objects, "staging", strong, data)
    champion = running_champion("staging", objects)
    assert champion is not None and champion.candidate.params == strong and bundle in champion.label
    weak_candidate = validate_candidate({"strategy": "sma_cross", "params": weak, "data": data})
    failed = by_name(run_gate(weak_candidate, champion=champion)[0])["champion"]
    assert not failed.passed and failed.value < failed.limit
    assert "Diebold-Mariano" in failed.detail and bundle in failed.detail

    _deploy(objects_worse := FolderObjectStore(tmp_path / "worse"), "staging", weak, data)
    strong_candidate = validate_candidate({"strategy": "sma_cross", "params": strong, "data": data})
    passed = by_name(run_gate(strong_candidate, champion=running_champion("staging", objects_worse))[0])["champion"]
    assert passed.passed and passed.value > 0


@pytest.mark.req("DC-43")
def test_dc_43_the_champion_itself_is_not_worse_than_itself():
    candidate = validate_candidate({"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}})
    check = by_name(run_gate(candidate, champion=Champion(candidate, "the same"))[0])["champion"]
    assert check.passed and check.value is None and "identical" in check.detail


@pytest.mark.req("DC-41", "DC-42")
def test_dc_41_dc_42_a_sweep_writes_its_best_point_with_its_provenance_and_the_gate_judges_it(
    monkeypatch, capsys, tmp_path
):
    data = walk_csv(tmp_path / "noise.csv", seed=3)
    found = tmp_path / "found.yaml"
    grid = ["--grid", "fast=2:21:1", "--grid", "slow=30:120:10"]
    sweep = ["backtest", "sweep", "--strategy", "sma_cross", "--data", data, *grid, "--candidate-out", str(found)]
    code, out, _ = cli(monkeypatch, capsys, *sweep, "--json")
    assert code == 0
    swept = json.loads(out)["candidate"]
    assert swept == yaml.safe_load(found.read_text())
    assert swept["params"] == best_of_sweep(data)["params"]  # the same best point as the sweep's own table
    assert swept["provenance"]["trials"] == 200 and swept["provenance"]["sharpe_variance"] > 0
    code, out, _ = cli(monkeypatch, capsys, "gate", "--config", str(found), "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1 and not checks["min_deflated_sharpe"]["passed"] and not checks["max_pbo"]["passed"]
    assert "best of 200 trials (sweep)" in checks["max_pbo"]["detail"]


@pytest.mark.req("DC-41")
def test_dc_41_an_optuna_study_hands_its_trials_to_the_gate(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    space = ["--space", "fast=2:20", "--space", "slow=25:80", "--trials", "12", "--seed", "3"]
    _, out, _ = cli(
        monkeypatch,
        capsys,
        "backtest",
        "optimize",
        "--strategy",
        "sma_cross",
        "--data",
        "sample:GOOG",
        *space,
        "--json",
    )
    outcome = json.loads(out)
    provenance = outcome["candidate"]["provenance"]
    assert provenance["method"] == "optimize" and provenance["trials"] == outcome["states"]["complete"]
    assert len(provenance["points"]) == provenance["trials"] and provenance["run"].startswith("study:")
    dsr = next(c for c in outcome["verdict"]["checks"] if c["name"] == "min_deflated_sharpe")
    assert f"best of {provenance['trials']} trials (optimize, run study:" in dsr["detail"]


@pytest.mark.req("DC-41", "DC-42", "DC-43")
def test_dc_41_dc_42_dc_43_the_verdict_report_pr_comment_and_slack_show_the_three_checks(tmp_path):
    candidate = validate_candidate(best_of_sweep(walk_csv(tmp_path / "noise.csv", seed=3)))
    verdict, result = run_gate(candidate)
    payload = verdict.to_dict()
    shown = {c["name"]: c for c in payload["checks"] if c["name"] in SELECTION}
    assert set(shown) == set(SELECTION) and all(c["detail"] and c["limit"] is not None for c in shown.values())
    report = tmp_path / "report.html"
    write_report(report, result, verdict)
    html = report.read_text()
    assert all(name in html for name in SELECTION) and "best of 200 trials (sweep)" in html
    (tmp_path / "gate-dev.json").write_text(json.dumps({"stack": "dev", **payload}))
    body = comment_body(tmp_path, run_url=None, sha="a" * 40)
    pbo = shown["max_pbo"]
    assert f"| max_pbo | selection | {pbo['value']:,.4g} | 0.2 | **FAIL** | best of 200 trials (sweep); CSCV" in body
    message = gate_verdict(make_run(verdict=payload))
    assert any(
        line.startswith("FAILED min_deflated_sharpe: value ") and "best of 200" in line for line in message.lines
    )
    assert any(line.startswith("champion: value n/a") and "first deploy" in line for line in message.lines)


@pytest.mark.req("DC-41")
def test_dc_41_a_walk_forward_hands_its_last_choice_and_its_grid_to_the_gate(monkeypatch, capsys, tmp_path):
    found = tmp_path / "walked.yaml"
    grid = ["--grid", "fast=5:15:5", "--grid", "slow=30:50:10"]
    walk = ["backtest", "walkforward", "--strategy", "sma_cross", "--data", "sample:GOOG", *grid]
    code, out, _ = cli(monkeypatch, capsys, *walk, "--train-bars", "500", "--test-bars", "250",
                       "--candidate-out", str(found), "--json")  # fmt: skip
    payload = json.loads(out)
    assert code == 0 and payload["candidate"] == yaml.safe_load(found.read_text())
    assert payload["candidate"]["params"] == payload["folds"][-1]["params"]
    grid_values = {"fast": [5, 10, 15], "slow": [30, 40, 50]}
    expected = {"method": "walkforward", "trials": 9, "sharpe_variance": None, "grid": grid_values}
    assert payload["candidate"]["provenance"] == expected
    code, out, _ = cli(monkeypatch, capsys, "gate", "--config", str(found), "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert "best of 9 trials (walkforward)" in checks["min_deflated_sharpe"]["detail"]
    assert "9 of 9 trials rebuilt" in checks["max_pbo"]["detail"]
