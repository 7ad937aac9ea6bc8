"""The gate: thresholds, every check, and the verdict's exit codes."""

from __future__ import annotations

import pytest

from tradeops.data.quality_thresholds import CHECK_NAMES
from tradeops.engine import ExecutionSettings, run_backtest
from tradeops.errors import ConfigError
from tradeops.gate import EXIT_FAIL, EXIT_PASS, EXIT_UNDECIDED, load_candidate, run_gate, validate_candidate
from tradeops.gate.checks import out_of_sample_check, robustness_check
from tradeops.gate.thresholds import Thresholds, validate_thresholds
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params

GOOD = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}


@pytest.mark.req("BT-4", "DC-2")
def test_bt_4_dc_2_a_sound_candidate_passes_every_default_check():
    verdict, result = run_gate(validate_candidate(GOOD))
    names = [c.name for c in verdict.checks]
    assert names == [
        *CHECK_NAMES,  # the data_quality group first: broken data is never judged
        "min_trades",
        "min_sharpe",
        "min_profit_factor",
        "min_total_return_pct",
        "max_drawdown_pct",
        "max_skipped_entries",
        "min_oos_sharpe_ratio",
        "lookahead_cuts",
        "min_robust_share",
        "min_deflated_sharpe",  # the selection group last: how the candidate was found, and the champion
        "max_pbo",
        "champion",
    ]
    assert verdict.passed and verdict.exit_code == EXIT_PASS
    payload = verdict.to_dict()
    assert payload["result"]["metrics"]["trades"] == result.metrics["trades"]
    assert all({"name", "value", "limit", "passed"} <= set(c) for c in payload["checks"])


@pytest.mark.req("BT-4", "DC-2")
def test_bt_4_dc_2_each_failed_threshold_is_reported_with_value_and_limit():
    strict = GOOD | {"thresholds": {"profitability": {"min_sharpe": 5.0}, "safety": {"max_drawdown_pct": 10}}}
    verdict, _ = run_gate(validate_candidate(strict))
    failed = {c.name: c for c in verdict.checks if not c.passed}
    assert set(failed) >= {"min_sharpe", "max_drawdown_pct"}
    assert failed["min_sharpe"].limit == 5.0 and failed["min_sharpe"].value < 5.0
    assert failed["max_drawdown_pct"].value > 10
    assert verdict.exit_code == EXIT_FAIL


@pytest.mark.req("BT-4")
def test_bt_4_excess_return_and_exposure_limits_compare_with_buy_and_hold(goog):
    candidate = GOOD | {
        "thresholds": {"profitability": {"min_excess_return_pct": 0.0}, "safety": {"max_exposure_pct": 30.0}}
    }
    verdict, result = run_gate(validate_candidate(candidate))
    failed = {c.name for c in verdict.checks if not c.passed}
    assert result.metrics["excess_return_pct"] < 0 and "min_excess_return_pct" in failed
    assert result.metrics["exposure_pct"] > 30 and "max_exposure_pct" in failed


@pytest.mark.req("DC-2")
@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (GOOD | {"data": "sample:NOPE"}, "unknown sample"),
        (GOOD | {"params": {"fast": 50, "slow": 20}}, "must be less than slow"),
    ],
)
def test_dc_2_undecidable_candidates_exit_2(candidate, message):
    try:
        verdict, result = run_gate(validate_candidate(candidate))
    except ConfigError as error:  # parameters are validated with the candidate itself
        assert message in str(error)
        return
    assert verdict.exit_code == EXIT_UNDECIDED and not verdict.passed and result is None
    assert message in verdict.error


@pytest.mark.req("BT-4")
def test_bt_4_thresholds_reject_unknown_keys_and_bad_values():
    with pytest.raises(ConfigError, match=r"safety\.max_drawdown: Extra inputs"):
        validate_thresholds({"safety": {"max_drawdown": 20}})
    with pytest.raises(ConfigError, match=r"safety\.max_drawdown_pct: Input should be greater than 0"):
        validate_thresholds({"safety": {"max_drawdown_pct": -1}})
    with pytest.raises(ConfigError, match="unknown threshold 'min_shape'"):
        Thresholds().with_overrides({"min_shape": 1})
    relaxed = Thresholds().with_overrides({"min_sharpe": None, "max_drawdown_pct": 50})
    assert relaxed.profitability.min_sharpe is None and relaxed.safety.max_drawdown_pct == 50


@pytest.mark.req("BT-4")
def test_bt_4_switched_off_checks_are_not_run():
    off = {
        "profitability": {
            "min_trades": None,
            "min_sharpe": None,
            "min_profit_factor": None,
            "min_total_return_pct": None,
        },
        "safety": {
            "max_drawdown_pct": None,
            "oos_train_fraction": None,
            "lookahead_cuts": None,
            "min_robust_share": None,
            "max_skipped_entries": None,
        },
        "selection": {"min_deflated_sharpe": None, "max_pbo": None, "champion_margin_pct": None},
        "data_quality": {f"max_{name}": None for name in CHECK_NAMES},
    }
    verdict, _ = run_gate(validate_candidate(GOOD | {"thresholds": off}))
    assert verdict.checks == [] and verdict.passed


@pytest.mark.req("BT-4")
def test_bt_4_out_of_sample_check_needs_an_in_sample_edge(goog):
    strategy = get_strategy("sma_cross")
    result = run_backtest(strategy, validate_params(strategy, {"fast": 10, "slow": 30}), goog, ExecutionSettings())
    safety = Thresholds().safety
    check = out_of_sample_check(result, safety)
    assert check.passed and check.limit == pytest.approx(
        0.3 * float(check.detail.split("in-sample Sharpe ")[1].split()[0]), rel=1e-2
    )
    losing = run_backtest(
        strategy, validate_params(strategy, {"fast": 10, "slow": 30}), goog, ExecutionSettings(direction="short_only")
    )
    check = out_of_sample_check(losing, safety)
    assert not check.passed and check.value < check.limit  # an edge in-sample that vanishes afterwards
    no_edge = run_backtest(
        strategy, validate_params(strategy, {"fast": 5, "slow": 10}), goog, ExecutionSettings(direction="short_only")
    )
    check = out_of_sample_check(no_edge, safety)
    assert check.value > 0 and not check.passed and "no in-sample edge" in check.detail


@pytest.mark.req("BT-4")
def test_bt_4_robustness_counts_neighbours_that_also_pass(goog):
    strategy = get_strategy("sma_cross")
    fragile = validate_params(strategy, {"fast": 20, "slow": 50})
    check = robustness_check(strategy, fragile, goog, ExecutionSettings(), Thresholds())
    assert check.value is not None and 0 <= check.value < 0.5 and not check.passed
    assert "of 4 neighbouring points pass" in check.detail


@pytest.mark.req("DC-2")
def test_dc_2_candidate_files_are_validated_with_their_path(tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text("strategy: sma_cross\nparams: {fast: 10, slow: 30}\nexecution: {comission: 0.1}\n")
    with pytest.raises(ConfigError, match=r"candidate.yaml: execution.comission: Extra inputs are not permitted"):
        load_candidate(path)
    path.write_text("strategy: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_candidate(path)
    path.write_text("- a list")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_candidate(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_candidate(tmp_path / "missing.yaml")
