"""Every stack evaluated once per session under Pulumi's mocks."""

from __future__ import annotations

import pytest
from pipelines.infra.evaluate import Evaluation, evaluate, stack_names

STACKS = stack_names()


@pytest.fixture(scope="session")
def evaluations() -> dict[str, Evaluation]:
    return {name: evaluate(name) for name in STACKS}


def of_kind(evaluation: Evaluation, type_token: str) -> list:
    return [r for r in evaluation.resources if r.type == type_token]
