"""Load `test_requirements.yaml`: every requirement with its source, status and proving tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tradeops.errors import ConfigError, format_validation

ID_PATTERN = r"^[A-Z]{2}-\d+$"


class Requirement(BaseModel):
    """One requirement and the tests (`path::function`) that prove it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    title: str
    text: str
    source: str
    priority: Literal["High", "Medium", "Low"]
    status: Literal["planned", "implemented"]
    tests: list[str] = Field(default_factory=list)


class Catalog(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requirements: list[Requirement]


def name_token(requirement_id: str) -> str:
    """Return how an ID appears in a test name: `BT-4` -> `bt_4`."""
    return requirement_id.lower().replace("-", "_")


def load_catalog(path: Path) -> list[Requirement]:
    """Read and validate the catalog; IDs must be unique and well formed."""
    try:
        catalog = Catalog.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from error
    except ValidationError as error:
        raise ConfigError(f"{path}: {format_validation(error)}") from error
    seen: set[str] = set()
    for requirement in catalog.requirements:
        if requirement.id in seen:
            raise ConfigError(f"{path}: requirement {requirement.id} is listed twice")
        seen.add(requirement.id)
        for test in requirement.tests:
            if not re.fullmatch(r"tests/[\w/]+\.py::test_\w+", test):
                raise ConfigError(f"{path}: {requirement.id}: test {test!r} is not 'tests/<path>.py::test_<name>'")
    return catalog.requirements
