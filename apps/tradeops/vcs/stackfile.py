"""The stack config files `infra/stacks/Pulumi.<stack>.yaml`: read their `tradeops:settings`, edit the
candidate's parameters in place (comments, order and every other key kept)."""

from __future__ import annotations

import io
import re
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tradeops.errors import ConfigError

SETTINGS_KEY = "tradeops:settings"
STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


def stack_file(stack: str) -> str:
    """The repository path of a stack's config file; a ConfigError for a name that is not a stack name."""
    if not STACK_NAME.match(stack):
        raise ConfigError(f"{stack!r} is not a stack name (lowercase letters, digits and dashes)")
    return f"infra/stacks/Pulumi.{stack}.yaml"


def read_settings(text: str, source: str) -> dict[str, Any]:
    """The `tradeops:settings` mapping of a stack file."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
    settings = (document or {}).get("config", {}).get(SETTINGS_KEY) if isinstance(document, dict) else None
    if not isinstance(settings, dict):
        raise ConfigError(f"{source}: no `config.{SETTINGS_KEY}` mapping")
    return settings


def with_params(text: str, params: dict[str, Any], source: str, provenance: dict[str, Any] | None = None) -> str:
    """The file with `candidate.params` updated by `params` and `candidate.provenance` set to `provenance`
    (removed when None: written by hand, one trial); everything else unchanged."""
    loader = YAML()  # round-trip: keeps comments, key order, flow style and quotes
    loader.preserve_quotes = True
    loader.width = 4096
    try:
        document = loader.load(text)
        candidate = document["config"][SETTINGS_KEY]["candidate"]
    except (YAMLError, KeyError, TypeError):
        raise ConfigError(f"{source}: no `config.{SETTINGS_KEY}.candidate` to edit") from None
    if candidate.get("params") is None:
        candidate["params"] = {}
    for name, value in params.items():
        candidate["params"][name] = value
    if provenance is not None:
        candidate["provenance"] = provenance
    elif "provenance" in candidate:
        del candidate["provenance"]  # the old record describes other parameters
    out = io.StringIO()
    loader.dump(document, out)
    return out.getvalue()
