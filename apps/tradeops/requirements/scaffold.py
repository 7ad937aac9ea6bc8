"""Write the skeleton of a test that will prove a requirement; it fails until someone proves it."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from tradeops.errors import ConfigError
from tradeops.requirements.catalog import Requirement, name_token


def function_name(requirement: Requirement) -> str:
    """`BT-4` "Profitability thresholds" -> `test_bt_4_profitability_thresholds`."""
    words = re.sub(r"[^a-z0-9]+", "_", requirement.title.lower()).strip("_")
    return f"test_{name_token(requirement.id)}_{words}"


def skeleton(requirement: Requirement) -> str:
    """Return a test module with one failing test that cites the requirement."""
    text = "\n".join(textwrap.wrap(requirement.text, 96, initial_indent="    ", subsequent_indent="    "))
    return f'''"""Tests for {requirement.id}: {requirement.title}."""

import pytest


@pytest.mark.req("{requirement.id}")
def {function_name(requirement)}():
    """{requirement.id} ({requirement.priority}, {requirement.source}):

{text}
    """
    pytest.fail("{requirement.id} not yet proven: replace this body with a test that proves it")
'''


def find(catalog: list[Requirement], requirement_id: str) -> Requirement:
    """Return the requirement with that ID; a ConfigError names the unknown ID."""
    for requirement in catalog:
        if requirement.id == requirement_id:
            return requirement
    raise ConfigError(f"unknown requirement {requirement_id}: not in the catalog")


def write_skeleton(requirement: Requirement, out: Path) -> None:
    """Write the skeleton to `out`, which must not exist yet (nothing is ever overwritten)."""
    try:
        with out.open("x") as handle:
            handle.write(skeleton(requirement))
    except FileExistsError as error:
        raise ConfigError(f"{out} exists: refusing to overwrite it") from error
    except OSError as error:
        raise ConfigError(f"{out}: cannot be written: {error}") from error
