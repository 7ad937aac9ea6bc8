"""Model versions in the object store (folder and S3): stored, listed, checked on load, predicting by version."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sklearn

from tradeops.engine import ExecutionSettings
from tradeops.errors import ConfigError
from tradeops.gate.checks import lookahead_check
from tradeops.gate.thresholds import Thresholds
from tradeops.models import ModelRegistry
from tradeops.models.training import train_version
from tradeops.store import open_object_store
from tradeops.strategies import get_strategy
from tradeops.strategies.base import table_from_points, validate_params
from tradeops.strategies.ml_classifier import fit, training_rows
from tradeops.strategies.ml_features import FEATURE_HASH, FEATURES, feature_matrix

ML = get_strategy("ml_classifier")


@pytest.fixture(params=["folder", "s3"])
def store_url(request, tmp_path, monkeypatch):
    """The object store the settings name (what `ml_classifier` loads versions from)."""
    if request.param == "folder":
        url = (tmp_path / "objects").as_uri()
    else:
        url = f"s3://{request.getfixturevalue('s3_bucket')}/tradeops"
        monkeypatch.setenv("TRADEOPS_S3_ENDPOINT_URL", request.getfixturevalue("s3_server"))
    monkeypatch.setenv("TRADEOPS_OBJECT_STORE", url)
    return url


def registry_at(url: str) -> ModelRegistry:
    import os

    return ModelRegistry(open_object_store(url, os.environ.get("TRADEOPS_S3_ENDPOINT_URL")))


@pytest.mark.req("DC-13")
def test_dc_13_a_trained_version_is_stored_with_its_card_and_predicts_by_version(store_url, goog):
    registry = registry_at(store_url)
    seen = goog.head(1100)
    card, verdict = train_version(registry, seen, {"train_bars": 200}, ExecutionSettings(), Thresholds())
    assert registry.versions() == [card.version]
    assert registry.card(card.version) == card
    assert card.training.last_seen == seen.index[-1].to_pydatetime() and card.training.rows == 200
    assert card.training.fingerprint == seen.fingerprint()
    assert card.features == list(FEATURES) and card.feature_hash == FEATURE_HASH
    assert card.libraries["scikit-learn"] == sklearn.__version__
    assert card.validation["predictions"] > 500 and 0 <= card.validation["accuracy"] <= 1
    assert card.gate["exit_code"] == verdict.exit_code and len(card.gate["checks"]) == len(verdict.checks) == 9
    assert card.params["train_bars"] == 200 and card.params["model"] is None

    model, _ = registry.load(card.version)
    features = feature_matrix(goog)
    final = fit(*training_rows(features, seen.close, 5, 1100 - 1 - 5 - 199, 1100 - 5))
    np.testing.assert_array_equal(model.probability_up(features[1100:, 0]), final.probability_up(features[1100:, 0]))

    params = validate_params(ML, {"model": card.version, "threshold": 0.52})
    signals = ML.signals(goog, table_from_points([params]))
    assert not signals.entries[:1100].any() and not signals.exits[:1100].any()
    with np.errstate(invalid="ignore"):
        expected = model.probability_up(features[1100:, 0]) >= 0.52
    np.testing.assert_array_equal(signals.entries[1100:, 0, 0], expected)
    assert expected.any()
    check = lookahead_check(ML, params, goog, cuts=15)
    assert check.passed, check.detail


@pytest.mark.req("DC-13")
def test_dc_13_a_tampered_unknown_or_foreign_version_is_refused(store_url, goog):
    registry = registry_at(store_url)
    card, _ = train_version(
        registry,
        goog.head(600),
        {"train_bars": 200},
        ExecutionSettings(),
        Thresholds().with_overrides({"min_robust_share": None}),
    )
    objects = registry.objects
    model_key, card_key = f"models/{card.version}/model.pkl", f"models/{card.version}/card.json"
    original = objects.get(model_key)
    objects.put(model_key, original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ConfigError, match="checksum mismatch"):
        registry.load(card.version)
    objects.put(model_key, original)
    raw = json.loads(objects.get(card_key))
    objects.put(card_key, json.dumps(raw | {"libraries": raw["libraries"] | {"scikit-learn": "0.24.2"}}).encode())
    with pytest.raises(ConfigError, match=r"saved with scikit-learn 0.24.2; this process has .*: retrain it"):
        registry.load(card.version)
    objects.put(card_key, json.dumps(raw | {"feature_hash": "sha256:other"}).encode())
    with pytest.raises(ConfigError, match="trained on other features"):
        registry.load(card.version)
    objects.put(card_key, b"{not json")
    with pytest.raises(ConfigError, match="unreadable card"):
        registry.load(card.version)
    objects.delete(model_key)
    objects.put(card_key, json.dumps(raw).encode())
    with pytest.raises(ConfigError, match="the model file is missing"):
        registry.load(card.version)
    with pytest.raises(ConfigError, match=r"no model version '20200101T000000Z-00000000' in .*tradeops model list"):
        ML.signals(goog, table_from_points([validate_params(ML, {"model": "20200101T000000Z-00000000"})]))
    with pytest.raises(ConfigError, match="malformed"):
        registry.card("../etc")


@pytest.mark.req("DC-13")
def test_dc_13_training_needs_enough_bars_and_no_model_parameter(tmp_path, goog):
    from tradeops.errors import DataError

    registry = ModelRegistry(open_object_store((tmp_path / "o").as_uri()))
    with pytest.raises(DataError, match=r"200 bars; training needs at least 305 \(warm-up 50"):
        train_version(registry, goog.head(200), {}, ExecutionSettings(), Thresholds())
    with pytest.raises(ConfigError, match="drop the `model` parameter"):
        train_version(registry, goog, {"model": "20200101T000000Z-00000000"}, ExecutionSettings(), Thresholds())
    assert registry.versions() == []


def _card_fields() -> dict:
    """What a training run hands to `save` (the registry adds version, time, checksum and size)."""
    from datetime import datetime

    when = datetime(2020, 1, 1)
    window = {"data": "sample:GOOG", "fingerprint": "sha256:x", "symbols": ["GOOG"], "rows": 1}
    window |= {"first_row": when, "last_row": when, "last_seen": when}
    return {
        "strategy": "ml_classifier",
        "params": {},
        "hyperparameters": {},
        "training": window,
        "features": list(FEATURES),
        "feature_hash": FEATURE_HASH,
        "libraries": {},
        "validation": {},
        "gate": {},
    }


@pytest.mark.req("DC-13")
@pytest.mark.parametrize("clock", ["one microsecond", "stepping back", "real"])
def test_dc_13_model_versions_list_in_creation_order_even_within_one_second(tmp_path, clock):
    from datetime import UTC, datetime, timedelta

    from tradeops.strategies.ml_classifier import FittedModel

    start = datetime(2026, 12, 2, 10, 0, 0, 999_999, tzinfo=UTC)
    ticks = iter(range(10_000))
    clocks = {
        "one microsecond": lambda: start,
        "stepping back": lambda: start - timedelta(microseconds=next(ticks)),
        "real": lambda: datetime.now(UTC),
    }
    registry = ModelRegistry(open_object_store((tmp_path / "o").as_uri()), clock=clocks[clock])
    saved = [registry.save(FittedModel(None, 0.5), _card_fields()).version for _ in range(60)]
    assert len(set(saved)) == 60
    assert registry.versions() == saved  # string order is creation order: the last saved is the latest
    assert all(registry.card(version).version == version for version in saved[-2:])
