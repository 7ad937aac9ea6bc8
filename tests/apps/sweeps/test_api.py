"""`POST /v1/sweeps` with `"shards": N` submits the sweep as the cluster's Indexed Job (DC-21)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH, backtester
from tests.apps.sweeps.test_cluster import IMAGE, kube  # noqa: F401 - the fake API server fixture
from tradeops.releases import Release, ReleaseStore
from tradeops.sweeps.cluster import run_shard

BODY = {"strategy": "sma_cross", "data": "sample:synthetic?bars=300&seed=3", "grid": {"fast": [3, 5], "slow": [20]}}


def deployed(objects, stack: str) -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    ReleaseStore(objects).save(
        Release(
            id="deploy-v2", stack=stack, kind="deploy", version="v2", git_sha="abc", config={}, image=IMAGE,
            result="succeeded", started_at=at, finished_at=at, who="ci",
        )
    )  # fmt: skip


@pytest.mark.req("DC-21")
def test_dc_21_the_api_submits_a_sharded_sweep_that_collect_turns_into_the_run(
    tmp_path,
    monkeypatch,
    capsys,
    kube,  # noqa: F811 - the fixture
):
    data = tmp_path / "data"
    options = {"environment": "dev", "namespace": "tradeops-dev", "kubernetes_host": kube.url}
    with backtester(data, **options) as api:
        assert api.post("/v1/sweeps", json=BODY | {"shards": 2}, headers=AUTH).status_code == 409  # no release yet
        deployed(api.app.state.objects, "dev")
        accepted = api.post("/v1/sweeps", json=BODY | {"shards": 2}, headers=AUTH)
        assert accepted.status_code == 202, accepted.text
        sweep_id = accepted.json()["id"]
        job = kube.created[-1]
        assert job["spec"]["completions"] == 2 and job["spec"]["completionMode"] == "Indexed"
        assert (
            job["metadata"]["namespace"] == "tradeops-dev"
            and job["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
        )
        assert api.get(accepted.json()["url"]).json()["status"] == "running"
        objects = api.app.state.objects
        for index in range(2):
            run_shard(objects, sweep_id, index)
        monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
        code, _, err = cli(monkeypatch, capsys, "sweep", "collect", sweep_id)
        assert code == 0, err
        run = api.get(accepted.json()["url"]).json()
        assert run["status"] == "done" and run["result"]["points"] == 2 and run["result"]["shards"] == 2
    with backtester(data, **(options | {"kubernetes_host": "http://127.0.0.1:9"})) as api:  # nothing listens
        refused = api.post("/v1/sweeps", json=BODY | {"shards": 2}, headers=AUTH)
        assert refused.status_code == 502 and "cannot be reached" in refused.json()["detail"]
        failed = api.get("/v1/sweeps", params={"status": "failed"}).json()
        assert failed["total"] == 1 and "cannot be reached" in failed["items"][0]["error"]
    with backtester(tmp_path / "other") as api:
        outside = api.post("/v1/sweeps", json=BODY | {"shards": 2}, headers=AUTH)
        assert outside.status_code == 409 and "TRADEOPS_NAMESPACE" in outside.json()["detail"]
