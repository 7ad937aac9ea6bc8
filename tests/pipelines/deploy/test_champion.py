"""The deploy path's gate compares the candidate with the bundle the stack runs (DC-43)."""

from __future__ import annotations

import pytest
from pipelines.deploy.deployer import deploy
from pipelines.infra.evaluate import stack_config

from tests.pipelines.deploy.conftest import plan


def _champion_check(desk, release) -> dict:
    verdict = desk.releases.verdict("staging", release.gate_verdict_id).verdict
    return next(c for c in verdict["checks"] if c["name"] == "champion")


@pytest.mark.req("DC-43")
def test_dc_43_the_deploy_gate_judges_the_candidate_against_the_running_release(desk):
    first = deploy(plan("v1"), desk.tools)
    assert first.result == "succeeded"
    assert "first deploy" in _champion_check(desk, first)["detail"]  # nothing ran before v1
    candidate = stack_config("staging")["tradeops:settings"]["candidate"]
    second = deploy(plan("v2", candidate=candidate | {"params": {"fast": 12, "slow": 30}}), desk.tools)
    check = _champion_check(desk, second)
    assert f"{first.bundle_id} (v1)" in check["detail"] and "Diebold-Mariano" in check["detail"]
    assert check["value"] is not None and check["limit"] < 0
