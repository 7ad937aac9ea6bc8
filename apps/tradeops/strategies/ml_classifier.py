"""A gradient-boosting classifier of the forward return, trained walk-forward inside the signals.

Walk-forward schedule (absolute bar numbers, so a prefix of the data trains the same models): the
first model is fitted at bar r0 = WARMUP + train_bars + horizon - 1 and a new one every
`retrain_every` bars after it. The model fitted at bar r learns from rows i = r - horizon -
train_bars + 1 .. r - horizon (from WARMUP with `anchored`), whose labels need closes up to bar r
only, and predicts bars r .. r + retrain_every - 1. Every prediction therefore comes from a model
that saw no later bar. With `model` set, a stored version predicts instead (see tradeops.models),
and only bars after the last one its training saw.

Fitted models are memoised on the exact bytes of their training rows: recomputing the signals of a
prefix (the gate's lookahead check, the trader's growing window) refits nothing it already fitted.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from tradeops.data.bars import Bars
from tradeops.strategies.base import ParamTable, Signals, StrategyParams
from tradeops.strategies.ml_features import FEATURES, WARMUP, feature_matrix, labels

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import ThreadpoolController

VERSION_PATTERN = r"^\d{8}T\d{6}Z-[0-9a-f]{8}$"
# Small and regularised: a few hundred noisy rows support little more, and a fit takes ~20 ms.
HYPERPARAMETERS: dict[str, Any] = {
    "max_iter": 40,
    "learning_rate": 0.05,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "max_bins": 64,
    "early_stopping": False,
    "random_state": 0,
}
CACHE_SIZE = 512


class MlClassifierParams(StrategyParams):
    """Entry and exit probabilities, the label horizon and the walk-forward schedule."""

    threshold: float = Field(
        0.55,
        gt=0.5,
        le=0.95,
        description="enter long when P(up) is at least this (e.g. 0.55); short when P(up) <= 1 - threshold",
        json_schema_extra={"step": 0.01},
    )
    exit: float = Field(
        0.5,
        ge=0.05,
        le=0.95,
        description="exit a long when P(up) falls below this (e.g. 0.5); a short when P(up) > 1 - exit",
        json_schema_extra={"step": 0.01},
    )
    horizon: int = Field(
        5,
        ge=1,
        le=60,
        description="label: sign of the return over this many bars (e.g. 5)",
        json_schema_extra={"step": 1},
    )
    train_bars: int = Field(
        250,
        ge=100,
        le=10_000,
        description="training window, bars (e.g. 250); the first window with `anchored`",
        json_schema_extra={"step": 50},
    )
    retrain_every: int = Field(
        100,
        ge=10,
        le=5_000,
        description="fit a new model every this many bars (e.g. 100)",
        json_schema_extra={"step": 10},
    )
    anchored: bool = Field(False, description="grow the training window from the start instead of rolling it")
    model: str | None = Field(
        None,
        pattern=VERSION_PATTERN,
        description="predict with this stored model version (tradeops model list) instead of walk-forward training",
    )

    @model_validator(mode="after")
    def _exit_not_above_threshold(self) -> MlClassifierParams:
        if self.exit > self.threshold:
            raise ValueError(f"exit ({self.exit}) must not exceed threshold ({self.threshold})")
        return self


@dataclass(frozen=True)
class FittedModel:
    """A fitted classifier, or the class share when the training rows held one class only."""

    estimator: HistGradientBoostingClassifier | None
    constant: float = float("nan")

    def probability_up(self, rows: np.ndarray) -> np.ndarray:
        """Return P(label = 1) for rows of shape (n, features)."""
        if self.estimator is None:
            return np.full(len(rows), self.constant)
        with _one_thread():
            return np.asarray(self.estimator.predict_proba(rows)[:, 1], dtype="float64")


_fitted: OrderedDict[str, FittedModel] = OrderedDict()


@functools.cache
def _threadpools() -> ThreadpoolController:
    import sklearn.ensemble  # noqa: F401 - load scikit-learn's OpenMP runtime before the scan
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # scanning the loaded libraries is slow: once per process


def _one_thread() -> Any:
    """One OpenMP thread: faster on a few hundred rows, and spares the other processes' cores."""
    return _threadpools().limit(limits=1, user_api="openmp")


def fit(rows: np.ndarray, targets: np.ndarray) -> FittedModel:
    """Fit (or recall, for byte-identical rows) the classifier on rows (n, features) and 0/1 targets."""
    key = hashlib.sha256(rows.tobytes() + targets.tobytes() + repr(sorted(HYPERPARAMETERS.items())).encode())
    digest = key.hexdigest()
    if digest in _fitted:
        _fitted.move_to_end(digest)
        return _fitted[digest]
    classes = np.unique(targets)
    if len(classes) < 2:
        fitted = FittedModel(None, float(classes[0]) if len(classes) else float("nan"))
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier

        estimator = HistGradientBoostingClassifier(**HYPERPARAMETERS)
        with _one_thread():
            estimator.fit(rows, targets.astype(np.int64))
        fitted = FittedModel(estimator)
    _fitted[digest] = fitted
    if len(_fitted) > CACHE_SIZE:
        _fitted.popitem(last=False)
    return fitted


def training_rows(
    features: np.ndarray, close: np.ndarray, horizon: int, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows lo..hi-1 of every symbol, flattened, with their labels (needs close up to hi - 1 + horizon)."""
    targets = labels(close, horizon)[lo:hi]
    return features[lo:hi].reshape(-1, len(FEATURES)), targets.reshape(-1)


def first_fit_bar(train_bars: int, horizon: int) -> int:
    """The bar at which the walk-forward schedule fits its first model."""
    return WARMUP + train_bars + horizon - 1


def walk_forward_probabilities(
    bars: Bars, horizon: int, train_bars: int, retrain_every: int, anchored: bool, features: np.ndarray | None = None
) -> np.ndarray:
    """Return P(up) per (bar, symbol), each from the latest model fitted at or before that bar; NaN before."""
    features = feature_matrix(bars) if features is None else features
    n = bars.n_bars
    probability = np.full((n, bars.n_symbols), np.nan)
    for fit_bar in range(first_fit_bar(train_bars, horizon), n, retrain_every):
        last_row = fit_bar - horizon  # its label needs the close of fit_bar: seen when predicting fit_bar on
        lo = WARMUP if anchored else last_row - train_bars + 1
        model = fit(*training_rows(features, bars.close, horizon, lo, last_row + 1))
        stop = min(fit_bar + retrain_every, n)
        rows = features[fit_bar:stop].reshape(-1, len(FEATURES))
        probability[fit_bar:stop] = model.probability_up(rows).reshape(stop - fit_bar, bars.n_symbols)
    return probability


def walk_forward_probability_at(
    bars: Bars, features: np.ndarray, t: int, horizon: int, train_bars: int, retrain_every: int, anchored: bool
) -> np.ndarray:
    """`walk_forward_probabilities` at bar t alone (bars and features hold bars 0..t): the latest model's P(up)."""
    first = first_fit_bar(train_bars, horizon)
    if t < first:
        return np.full(bars.n_symbols, np.nan)
    fit_bar = first + (t - first) // retrain_every * retrain_every
    last_row = fit_bar - horizon
    lo = WARMUP if anchored else last_row - train_bars + 1
    model = fit(*training_rows(features, bars.close, horizon, lo, last_row + 1))  # memoised: fitted once
    return model.probability_up(features[t])


def stored_probabilities(bars: Bars, version: str, features: np.ndarray) -> np.ndarray:
    """Return P(up) from a stored version for bars after its training data (and after the warm-up)."""
    from tradeops.models.registry import cached_model

    model, card = cached_model(version)
    probability = np.full((bars.n_bars, bars.n_symbols), np.nan)
    start = max(WARMUP, int(bars.index.searchsorted(card.training.last_seen, side="right")))
    if start < bars.n_bars:
        rows = features[start:].reshape(-1, len(FEATURES))
        probability[start:] = model.probability_up(rows).reshape(bars.n_bars - start, bars.n_symbols)
    return probability


def stored_probability_at(bars: Bars, version: str, features: np.ndarray, t: int) -> np.ndarray:
    """`stored_probabilities` at bar t alone (bars and features hold bars 0..t)."""
    from tradeops.models.registry import cached_model

    model, card = cached_model(version)
    start = max(WARMUP, int(bars.index.searchsorted(card.training.last_seen, side="right")))
    return model.probability_up(features[t]) if t >= start else np.full(bars.n_symbols, np.nan)


class MlSteps:
    """`MlClassifier.signals` for one parameter point at the new bar only: the features of the bars so far,
    the schedule's latest model (fitted once, memoised), one prediction. A model scores each row on its
    own, so this equals the full computation's batch prediction exactly."""

    def __init__(self, params: MlClassifierParams) -> None:
        self.params = params

    def at(self, bars: Bars, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        seen = bars.slice(0, t + 1)
        features = feature_matrix(seen)
        p = self.params
        if p.model is not None:
            probability = stored_probability_at(seen, p.model, features, t)
        else:
            probability = walk_forward_probability_at(
                seen, features, t, p.horizon, p.train_bars, p.retrain_every, p.anchored
            )
        up = probability[:, None]  # (symbols, 1 point)
        threshold, exit_level = np.float64(p.threshold), np.float64(p.exit)
        with np.errstate(invalid="ignore"):
            return up >= threshold, up < exit_level, up <= 1 - threshold, up > 1 - exit_level


class MlClassifier:
    """Long (short) when the classifier's P(up) clears `threshold` (1 - threshold); exit at `exit`."""

    name: ClassVar[str] = "ml_classifier"
    description: ClassVar[str] = "gradient-boosted classifier of the forward return, trained walk-forward"
    Params: ClassVar[type[StrategyParams]] = MlClassifierParams

    def incremental(self, params: StrategyParams) -> MlSteps:
        """The signals at the new bar only (see MlSteps)."""
        assert isinstance(params, MlClassifierParams)
        return MlSteps(params)

    def signals(self, bars: Bars, params: ParamTable) -> Signals:
        features = feature_matrix(bars)
        n_points = len(params["threshold"])
        probability = np.empty((bars.n_bars, bars.n_symbols, n_points))
        by_model: dict[tuple[Any, ...], np.ndarray] = {}
        for p in range(n_points):
            key = tuple(params[name][p] for name in ("horizon", "train_bars", "retrain_every", "anchored", "model"))
            if key not in by_model:
                horizon, train_bars, retrain_every, anchored, version = key
                by_model[key] = (
                    stored_probabilities(bars, str(version), features)
                    if version is not None
                    else walk_forward_probabilities(
                        bars, int(horizon), int(train_bars), int(retrain_every), bool(anchored), features
                    )
                )
            probability[:, :, p] = by_model[key]
        threshold = np.asarray(params["threshold"], dtype="float64")
        exit_level = np.asarray(params["exit"], dtype="float64")
        with np.errstate(invalid="ignore"):
            return Signals(
                entries=probability >= threshold,
                exits=probability < exit_level,
                short_entries=probability <= 1 - threshold,
                short_exits=probability > 1 - exit_level,
            )
