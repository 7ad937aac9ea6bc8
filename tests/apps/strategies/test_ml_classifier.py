"""ml_classifier: features from past bars, walk-forward training with no lookahead, validated parameters."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from tradeops.data import Bars, load_bars
from tradeops.errors import ConfigError
from tradeops.gate.checks import lookahead_check
from tradeops.strategies import get_strategy
from tradeops.strategies.base import neighbours, table_from_points, validate_params
from tradeops.strategies.ml_classifier import HYPERPARAMETERS, first_fit_bar, walk_forward_probabilities
from tradeops.strategies.ml_features import FEATURES, WARMUP, feature_matrix, labels

ML = get_strategy("ml_classifier")


@pytest.mark.req("DC-13", "DC-10")
def test_dc_13_dc_10_ml_classifier_passes_the_lookahead_check_on_both_samples_and_many_symbols(goog, eurusd):
    params = validate_params(ML, {"train_bars": 200, "retrain_every": 60})
    for bars in (goog, eurusd.head(2500), load_bars("sample:synthetic?symbols=4&bars=600&seed=7")):
        check = lookahead_check(ML, params, bars, cuts=30)
        assert check.passed, check.detail
        signals = ML.signals(bars, table_from_points([params]))
        assert signals.entries.any() and signals.exits.any()


@pytest.mark.req("DC-13", "DC-10")
def test_dc_13_dc_10_changing_the_future_changes_no_earlier_feature_or_prediction(goog):
    cut = 1200
    rng = np.random.default_rng(1)
    scale = np.ones_like(goog.close)
    scale[cut:] = rng.uniform(0.5, 1.5, size=scale[cut:].shape)
    fields = {f: getattr(goog, f) * scale for f in ("open", "high", "low", "close", "volume")}
    other = Bars(name="altered", index=goog.index, symbols=goog.symbols, **fields)
    np.testing.assert_array_equal(feature_matrix(goog)[:cut], feature_matrix(other)[:cut])
    original = walk_forward_probabilities(goog, 5, 250, 100, False)
    altered = walk_forward_probabilities(other, 5, 250, 100, False)
    np.testing.assert_array_equal(original[:cut], altered[:cut])
    assert not np.array_equal(original[cut:], altered[cut:], equal_nan=True)


@pytest.mark.req("DC-13", "DC-10")
@pytest.mark.parametrize("anchored", [False, True])
def test_dc_13_dc_10_each_prediction_equals_a_model_fitted_only_on_bars_up_to_its_retrain_bar(goog, anchored):
    horizon, train_bars, every = 5, 250, 100
    probability = walk_forward_probabilities(goog, horizon, train_bars, every, anchored)
    first = first_fit_bar(train_bars, horizon)
    assert np.isnan(probability[:first]).all() and not np.isnan(probability[first:]).any()
    for bar in (first, first + every - 1, first + 7 * every + 13, goog.n_bars - 1):
        fit_bar = first + (bar - first) // every * every
        seen = goog.head(fit_bar + 1)  # nothing after the retrain bar exists for this model
        rows, targets = feature_matrix(seen), labels(seen.close, horizon)
        lo = WARMUP if anchored else fit_bar - horizon - train_bars + 1
        assert not np.isnan(targets[lo : fit_bar - horizon + 1]).any()
        model = HistGradientBoostingClassifier(**HYPERPARAMETERS)
        model.fit(rows[lo : fit_bar - horizon + 1, 0], targets[lo : fit_bar - horizon + 1, 0].astype(int))
        expected = model.predict_proba(feature_matrix(goog.head(bar + 1))[bar : bar + 1, 0])[0, 1]
        assert probability[bar, 0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.req("DC-13")
def test_dc_13_features_are_the_documented_list_and_labels_look_exactly_horizon_ahead(goog):
    matrix = feature_matrix(goog)
    assert matrix.shape == (goog.n_bars, 1, len(FEATURES)) and len(FEATURES) == 12
    assert not np.isnan(matrix[WARMUP:]).any()
    assert np.isnan(matrix[: WARMUP - 1, 0, FEATURES.index("close_to_sma_50")]).all()
    assert matrix[30, 0, FEATURES.index("return_5")] == pytest.approx(np.log(goog.close[30, 0] / goog.close[25, 0]))
    y = labels(goog.close, 5)
    assert y[10, 0] == float(goog.close[15, 0] > goog.close[10, 0])
    assert np.isnan(y[-5:]).all() and not np.isnan(y[:-5]).any()


@pytest.mark.req("DC-13")
def test_dc_13_thresholds_decide_entries_and_exits_and_points_share_one_training(goog):
    points = [validate_params(ML, {"threshold": t, "exit": e}) for t, e in ((0.52, 0.5), (0.6, 0.45), (0.7, 0.3))]
    signals = ML.signals(goog, table_from_points(points))
    probability = walk_forward_probabilities(goog, 5, 250, 100, False)[:, :, None]
    threshold = np.array([0.52, 0.6, 0.7])
    exit_level = np.array([0.5, 0.45, 0.3])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(signals.entries, probability >= threshold)
        np.testing.assert_array_equal(signals.exits, probability < exit_level)
        np.testing.assert_array_equal(signals.short_entries, probability <= 1 - threshold)
        np.testing.assert_array_equal(signals.short_exits, probability > 1 - exit_level)
    counts = signals.entries.sum(axis=(0, 1))
    assert counts[0] > counts[1] > counts[2] >= 0
    assert not (signals.entries & signals.exits).any()


@pytest.mark.req("DC-13", "DC-10")
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": 0.5}, "threshold: Input should be greater than 0.5"),
        ({"threshold": 0.55, "exit": 0.6}, r"exit \(0.6\) must not exceed threshold \(0.55\)"),
        ({"horizon": 0}, "horizon: Input should be greater than or equal to 1"),
        ({"train_bars": 50}, "train_bars: Input should be greater than or equal to 100"),
        ({"retrain_every": 5}, "retrain_every: Input should be greater than or equal to 10"),
        ({"model": "latest"}, "model: String should match pattern"),
        ({"depth": 3}, "depth: Extra inputs are not permitted"),
    ],
)
def test_dc_13_dc_10_bad_parameters_get_a_clear_error(params, message):
    with pytest.raises(ConfigError, match=message):
        validate_params(ML, params)


@pytest.mark.req("DC-13")
def test_dc_13_every_numeric_parameter_declares_a_step_for_the_robustness_check():
    defaults = validate_params(ML, {})
    schema = ML.Params.model_json_schema()["properties"]
    assert {n for n, field in schema.items() if "step" in field} == {
        "threshold",
        "exit",
        "horizon",
        "train_bars",
        "retrain_every",
    }
    assert len(neighbours(ML, defaults)) == 10
