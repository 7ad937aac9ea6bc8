"""Train a new ml_classifier version: the final model, its walk-forward validation, the gate, the card."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradeops.data.bars import Bars
from tradeops.engine.result import result_to_dict
from tradeops.engine.settings import ExecutionSettings
from tradeops.errors import ConfigError, DataError, TradeopsError
from tradeops.gate.checks import evaluate
from tradeops.gate.thresholds import Thresholds
from tradeops.gate.verdict import Verdict
from tradeops.models.registry import ModelCard, ModelRegistry, TrainingWindow, library_versions
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params
from tradeops.strategies.ml_classifier import (
    HYPERPARAMETERS,
    MlClassifierParams,
    fit,
    training_rows,
    walk_forward_probabilities,
)
from tradeops.strategies.ml_features import FEATURE_HASH, FEATURES, WARMUP, feature_matrix, labels


def validation_metrics(probability: np.ndarray, close: np.ndarray, horizon: int) -> dict[str, float | int | None]:
    """Score the walk-forward (out-of-sample) predictions whose label is known by the last bar."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    truth = labels(close, horizon)
    known = ~np.isnan(probability) & ~np.isnan(truth)
    p, y = probability[known], truth[known].astype(np.int64)
    if len(y) == 0:
        return {"predictions": 0, "accuracy": None, "roc_auc": None, "log_loss": None, "brier": None, "up_share": None}
    both = len(np.unique(y)) == 2
    return {
        "predictions": len(y),
        "accuracy": float(np.mean((p >= 0.5) == y)),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "up_share": float(np.mean(y)),
    }


def _gate(params: MlClassifierParams, bars: Bars, settings: ExecutionSettings, thresholds: Thresholds) -> Verdict:
    strategy = get_strategy("ml_classifier")
    candidate = {"strategy": strategy.name, "params": params.model_dump(), "data": bars.name}
    try:
        result, checks = evaluate(strategy, params, bars, settings, thresholds)
    except TradeopsError as error:
        return Verdict(error=str(error), candidate=candidate)
    return Verdict(checks=checks, candidate=candidate, result=result_to_dict(result))


def train_version(
    registry: ModelRegistry,
    bars: Bars,
    raw_params: dict[str, Any],
    settings: ExecutionSettings,
    thresholds: Thresholds,
) -> tuple[ModelCard, Verdict]:
    """Fit on the last training window of `bars`, validate walk-forward, gate the recipe, store a version.

    The gate judges the walk-forward form of the same parameters on the same bars: every prediction
    it scores came from a model that saw no later bar, which a model cannot offer on its own data.
    """
    params = validate_params(get_strategy("ml_classifier"), raw_params)
    assert isinstance(params, MlClassifierParams)
    if params.model is not None:
        raise ConfigError("model train fits a new model: drop the `model` parameter")
    n, horizon = bars.n_bars, params.horizon
    needed = WARMUP + params.train_bars + horizon
    if n < needed:
        raise DataError(
            f"{bars.name}: {n} bars; training needs at least {needed} "
            f"(warm-up {WARMUP} + train_bars {params.train_bars} + horizon {horizon})"
        )
    features = feature_matrix(bars)
    last_row = n - 1 - horizon
    first_row = WARMUP if params.anchored else last_row - params.train_bars + 1
    model = fit(*training_rows(features, bars.close, horizon, first_row, last_row + 1))
    probability = walk_forward_probabilities(
        bars, horizon, params.train_bars, params.retrain_every, params.anchored, features
    )
    verdict = _gate(params, bars, settings, thresholds)
    window = TrainingWindow(
        data=bars.name,
        fingerprint=bars.fingerprint(),
        symbols=list(bars.symbols),
        first_row=bars.index[first_row].to_pydatetime(),
        last_row=bars.index[last_row].to_pydatetime(),
        last_seen=bars.index[n - 1].to_pydatetime(),
        rows=(last_row - first_row + 1) * bars.n_symbols,
    )
    verdict_json = verdict.to_dict()
    card = {
        "strategy": "ml_classifier",
        "params": params.model_dump(),
        "hyperparameters": HYPERPARAMETERS,
        "training": window,
        "features": list(FEATURES),
        "feature_hash": FEATURE_HASH,
        "libraries": library_versions(),
        "validation": validation_metrics(probability, bars.close, horizon),
        "gate": {
            "passed": verdict.passed,
            "exit_code": verdict.exit_code,
            "error": verdict.error,
            "checks": verdict_json["checks"],
            "metrics": (verdict_json["result"] or {}).get("metrics"),
            "execution": settings.model_dump(mode="json"),
        },
    }
    return registry.save(model, card), verdict
