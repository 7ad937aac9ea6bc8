"""Every container's numba and OpenMP thread pools follow its own CPU limit (issue 27 item 9)."""

from __future__ import annotations

import pytest
from pipelines.infra.render import manifests

from tests.infra.conftest import STACKS
from tradeops.kube import THREAD_VARIABLES
from tradeops.sweeps.cluster import SweepDocument, job_manifest
from tradeops.sweeps.config import SweepJobConfig
from tradeops.sweeps.spec import SweepSpec

FROM_CPU_LIMIT = {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1"}}  # whole cores, rounded up


def _pods(items: list[dict]) -> list[tuple[str, dict]]:
    pods = []
    for item in items:
        spec = item.get("spec", {})
        template = (spec["jobTemplate"]["spec"] if item["kind"] == "CronJob" else spec).get("template")
        if template is not None:
            pods.append((f"{item['kind']} {item['metadata'].get('name', '(generated)')}", template["spec"]))
    return pods


def _assert_threads_follow_the_cpu_limit(where: str, pod: dict) -> None:
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        env = {e["name"]: e for e in container.get("env", [])}
        for name in THREAD_VARIABLES:
            assert env.get(name) == {"name": name, "valueFrom": FROM_CPU_LIMIT}, f"{where} {container['name']} {name}"
        assert "cpu" in container["resources"]["limits"], f"{where} {container['name']}: no CPU limit"


@pytest.mark.req("DC-61")
@pytest.mark.parametrize("stack", STACKS)
def test_dc_61_every_container_of_the_stack_sets_its_threads_from_its_cpu_limit(evaluations, stack):
    pods = _pods(manifests(evaluations[stack]))
    kinds = {where.split()[0] for where, _ in pods}
    assert kinds == {"Deployment", "Job", "CronJob"} and len(pods) >= 7
    for where, pod in pods:
        _assert_threads_follow_the_cpu_limit(where, pod)


@pytest.mark.req("DC-61")
def test_dc_61_sweep_shard_pods_set_their_threads_from_their_cpu_limit():
    spec = SweepSpec(strategy="sma_cross", data="sample:GOOG", grid={"fast": [5, 10], "slow": [30, 40]})
    document = SweepDocument(
        id="s1", spec=spec, shards=2, namespace="tradeops-dev", job="tradeops-sweep-s1", image="i@sha256:0", version="v"
    )
    (item,) = _pods([job_manifest(document, SweepJobConfig())])
    _assert_threads_follow_the_cpu_limit(*item)
