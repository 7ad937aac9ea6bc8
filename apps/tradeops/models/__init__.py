"""Trained models as versioned artifacts in the object store (training in tradeops.models.training)."""

from tradeops.models.registry import ModelCard, ModelRegistry, default_registry

__all__ = ["ModelCard", "ModelRegistry", "default_registry"]
