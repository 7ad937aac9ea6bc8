"""Model versions in the object store: `models/<version>/model.pkl`, then `card.json` last.

A version exists once its card is written; the card records what the model learned from (data,
window, features and their hash), the library versions that pickled it, validation metrics, its
parameters and the gate's verdict, and the model file's SHA-256, checked on every load.
Versions are `YYYYmmddTHHMMSSZ-<8 hex>`: the hex is the microsecond (5 digits) and 3 random digits,
and a new version is always placed after the newest stored one, so the string order is the creation
order (a total order, also for many versions in one second) and every training run is a new version.
Model files are pickles: the object store is trusted like the image, and the checksum guards
against corruption and swapped files, not against whoever can write the store.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tradeops import __version__
from tradeops.errors import ConfigError
from tradeops.store.objects import ObjectStore, open_object_store
from tradeops.strategies.ml_classifier import VERSION_PATTERN, FittedModel
from tradeops.strategies.ml_features import FEATURE_HASH

PREFIX = "models"


def library_versions() -> dict[str, str]:
    """The versions a pickled model depends on; a load refuses a different scikit-learn."""
    versions = {name: package_version(name) for name in ("scikit-learn", "numpy", "pandas")}
    return {"python": platform.python_version(), "tradeops": __version__, **versions}


class TrainingWindow(BaseModel):
    """What the model learned from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: str
    fingerprint: str
    symbols: list[str]
    first_row: datetime  # the first bar whose features were a training row
    last_row: datetime  # the last one
    last_seen: datetime  # the last bar whose close fed a label: the model predicts only after it
    rows: int


class ModelCard(BaseModel):
    """Everything known about one model version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    strategy: str
    created_at: datetime
    params: dict[str, Any]
    hyperparameters: dict[str, Any]
    training: TrainingWindow
    features: list[str]
    feature_hash: str
    libraries: dict[str, str]
    validation: dict[str, float | int | None]
    gate: dict[str, Any]
    sha256: str
    size_bytes: int


class ModelRegistry:
    """Save, list and load model versions in one object store."""

    def __init__(self, objects: ObjectStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.objects = objects
        self.clock = clock

    def _key(self, version: str, name: str) -> str:
        return f"{PREFIX}/{version}/{name}"

    def save(self, model: FittedModel, card: dict[str, Any]) -> ModelCard:
        """Store the model file, then its card (which names the new version); return the card."""
        blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(blob).hexdigest()
        created = self.clock()
        version = self._next_version(created)
        full = ModelCard.model_validate(
            card | {"version": version, "created_at": created, "sha256": digest, "size_bytes": len(blob)}
        )
        self.objects.put(self._key(version, "model.pkl"), blob)
        self.objects.put(self._key(version, "card.json"), full.model_dump_json(indent=2).encode(), "application/json")
        return full

    def _next_version(self, created: datetime) -> str:
        """A version after every stored one (complete or not): the string order is the creation order."""
        candidate = f"{created:%Y%m%dT%H%M%SZ}-{created.microsecond:05x}{secrets.randbelow(16**3):03x}"
        stored = [key.split("/")[1] for key in self.objects.keys(f"{PREFIX}/")]
        newest = max((version for version in stored if _valid_version(version)), default="")
        if candidate > newest:
            return candidate
        # the same microsecond, or a clock that stepped back: the next version after the newest
        stamp, suffix = newest.split("-")
        return f"{stamp}-{int(suffix, 16) + 1:08x}"

    def versions(self) -> list[str]:
        """Every version with a card, oldest first."""
        return sorted(key.split("/")[1] for key in self.objects.keys(f"{PREFIX}/") if key.endswith("/card.json"))

    def card(self, version: str) -> ModelCard:
        """Return a version's card; a ConfigError when there is no such version."""
        if not _valid_version(version):
            raise ConfigError(f"model version {version!r} is malformed; expected e.g. 20250101T120000Z-1a2b3c4d")
        try:
            raw = self.objects.get(self._key(version, "card.json"))
        except KeyError:
            raise ConfigError(
                f"no model version {version!r} in {self.objects.url}; see `tradeops model list`"
            ) from None
        try:
            return ModelCard.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as error:
            raise ConfigError(f"model {version}: unreadable card: {error}") from error

    def load(self, version: str) -> tuple[FittedModel, ModelCard]:
        """Return the model and its card after checking the file's SHA-256 and the library versions."""
        card = self.card(version)
        try:
            blob = self.objects.get(self._key(version, "model.pkl"))
        except KeyError:
            raise ConfigError(f"model {version}: the model file is missing") from None
        if hashlib.sha256(blob).hexdigest() != card.sha256:
            raise ConfigError(f"model {version}: checksum mismatch, the stored file is not the one trained")
        if card.feature_hash != FEATURE_HASH:
            raise ConfigError(f"model {version} was trained on other features ({card.feature_hash}): retrain it")
        here = library_versions()["scikit-learn"]
        if card.libraries.get("scikit-learn") != here:
            raise ConfigError(
                f"model {version} was saved with scikit-learn {card.libraries.get('scikit-learn')}; "
                f"this process has {here}: retrain it (tradeops model train)"
            )
        model = pickle.loads(blob)  # noqa: S301 - checksum-verified file from the trusted store
        if not isinstance(model, FittedModel):
            raise ConfigError(f"model {version}: the file does not hold an ml_classifier model")
        return model, card


def _valid_version(version: str) -> bool:
    return re.fullmatch(VERSION_PATTERN, version) is not None


def default_registry() -> ModelRegistry:
    """The registry in the object store the TRADEOPS_* settings name."""
    from tradeops.settings import load_settings

    settings = load_settings()
    return ModelRegistry(open_object_store(settings.resolved_object_store, settings.s3_endpoint_url))


_loaded: OrderedDict[tuple[str | None, ...], tuple[FittedModel, ModelCard]] = OrderedDict()


def cached_model(version: str) -> tuple[FittedModel, ModelCard]:
    """Load a version from the configured store once per process (versions never change)."""
    from tradeops.settings import load_settings

    settings = load_settings()
    key = (settings.resolved_object_store, settings.s3_endpoint_url, version)
    if key not in _loaded:
        _loaded[key] = default_registry().load(version)
        if len(_loaded) > 16:
            _loaded.popitem(last=False)
    _loaded.move_to_end(key)
    return _loaded[key]
