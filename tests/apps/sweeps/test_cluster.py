"""A sharded sweep on Kubernetes: submitted as an Indexed Job, run as pods reading JOB_COMPLETION_INDEX,
collected from the object store into a run (DC-21). The API server is the local fake; S3 is real (moto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.apps.cli.test_cli import cli
from tests.fakes.kubernetes_api import FakeKubernetes
from tradeops.engine import run_grid
from tradeops.releases import Release, ReleaseStore
from tradeops.store import RunStore, open_object_store
from tradeops.sweeps.parts import prepare
from tradeops.sweeps.spec import SweepSpec

REPO = Path(__file__).resolve().parents[3]
IMAGE = "registry.example/tradeops@sha256:" + "ab" * 32
GRID = ["-g", "fast=3:12:3", "-g", "slow=20,40"]
DATA = "sample:synthetic?bars=300&symbols=3&seed=5"


@pytest.fixture
def kube() -> Iterator[FakeKubernetes]:
    fake = FakeKubernetes()
    yield fake
    fake.stop()


@pytest.fixture
def cluster_env(tmp_path, monkeypatch, s3_server, s3_bucket):
    """A repository root with the dev stack file (plus a sweeps section), S3 as the object store, a deployed release."""
    stack = (REPO / "infra/stacks/Pulumi.dev.yaml").read_text()
    stack += "    sweeps: {cpu_request: 250m, memory_limit: 1Gi, parallelism: 2, retries_per_shard: 3}\n"
    (tmp_path / "infra/stacks").mkdir(parents=True)
    (tmp_path / "infra/stacks/Pulumi.dev.yaml").write_text(stack)
    monkeypatch.chdir(tmp_path)
    env = {
        "TRADEOPS_DATA_DIR": str(tmp_path / "data"),
        "TRADEOPS_OBJECT_STORE": f"s3://{s3_bucket}/tradeops",
        "TRADEOPS_S3_ENDPOINT_URL": s3_server,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    objects = open_object_store(env["TRADEOPS_OBJECT_STORE"], s3_server)
    at = datetime(2026, 1, 2, tzinfo=UTC)
    ReleaseStore(objects).save(
        Release(
            id="deploy-v1", stack="dev", kind="deploy", version="v1.2.0", git_sha="abc", config={}, image=IMAGE,
            result="succeeded", started_at=at, finished_at=at, who="ci",
        )
    )  # fmt: skip
    return objects


def run_pod(sweep_id: str, index: int) -> subprocess.Popen[bytes]:
    """A shard pod: the image's entry point with JOB_COMPLETION_INDEX set by the Job controller."""
    env = os.environ | {"JOB_COMPLETION_INDEX": str(index), "PYTHONPATH": f"{REPO / 'apps'}{os.pathsep}{REPO}"}
    command = [sys.executable, "-m", "tradeops.cli", "sweep", "shard", sweep_id]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.req("DC-21")
def test_dc_21_submit_creates_an_indexed_job_pods_run_shards_and_collect_stores_the_merged_run(
    monkeypatch, capsys, kube, cluster_env, tmp_path
):
    args = ["sweep", "submit", "--stack", "dev", "--shards", "3", "-s", "sma_cross", "-d", DATA, *GRID]
    code, out, err = cli(monkeypatch, capsys, *args, "--commission", "0.001", "--kubernetes-host", kube.url, "--json")
    assert code == 0, err
    submitted = json.loads(out)
    sweep_id = submitted["id"]
    created = kube.created[0]
    spec = created["spec"]
    assert created["metadata"]["namespace"] == "tradeops-dev" and submitted["namespace"] == "tradeops-dev"
    assert created["metadata"]["labels"]["tradeops.io/sweep"] == sweep_id
    assert spec["completionMode"] == "Indexed" and spec["completions"] == 3 and spec["parallelism"] == 2
    assert spec["backoffLimitPerIndex"] == 3 and spec["activeDeadlineSeconds"] > 0
    assert spec["ttlSecondsAfterFinished"] > 0
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "tradeops-backtester" and pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    assert container["image"] == IMAGE and container["args"] == ["sweep", "shard", sweep_id]
    assert container["resources"]["requests"]["cpu"] == "250m" and container["resources"]["limits"]["memory"] == "1Gi"
    stored = kube.jobs["tradeops-dev"][submitted["job"]]
    assert stored["spec"]["podReplacementPolicy"] == "Failed"  # what the API server defaults it to

    pods = [run_pod(sweep_id, index) for index in range(2)]  # parallelism 2: the third waits for a free slot
    for index, process in enumerate(pods):
        assert process.wait(timeout=600) == 0, process.stderr.read() if process.stderr else ""
        kube.finish_index("tradeops-dev", submitted["job"], index)
    code, out, _ = cli(monkeypatch, capsys, "sweep", "status", sweep_id, "--kubernetes-host", kube.url, "--json")
    status = json.loads(out)
    assert code == 0 and status["done"] == [0, 1] and status["running"] == [2] and status["state"] == "running"
    code, _, err = cli(monkeypatch, capsys, "sweep", "collect", sweep_id)
    assert code == 2 and "missing part(s): shard 2/3" in err
    assert run_pod(sweep_id, 2).wait(timeout=600) == 0
    kube.finish_index("tradeops-dev", submitted["job"], 2)
    code, out, _ = cli(monkeypatch, capsys, "sweep", "status", sweep_id, "--kubernetes-host", kube.url)
    assert code == 0 and "(complete)" in out

    code, out, err = cli(monkeypatch, capsys, "sweep", "collect", sweep_id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["shards"] == 3 and result["merge"]["rows"] == 8 and result["points"] == 8
    provenance = result["candidate"]["provenance"]  # the best point knows it is the best of this run's 8 (DC-41)
    assert provenance["trials"] == 8 and provenance["run"] == sweep_id and provenance["grid"]["fast"] == [3, 6, 9, 12]
    store = RunStore(f"sqlite:///{tmp_path / 'data' / 'tradeops.db'}")
    run = store.get(sweep_id)
    store.close()
    assert run is not None and run.status == "done" and run.kind == "sweep" and run.source == "cli"
    assert run.data_fingerprint == result["data"]["fingerprint"] and run.metrics == result["best"][0]
    table = pd.read_csv(__import__("io").BytesIO(cluster_env.get(f"runs/{sweep_id}/table.csv")))
    spec_model = SweepSpec(
        strategy="sma_cross", data=DATA, grid={"fast": [3, 6, 9, 12], "slow": [20, 40]}, settings={"commission": 0.001}
    )
    ready = prepare(spec_model)
    whole = run_grid(ready.strategy, ready.points, ready.bars, ready.settings)
    assert table.to_csv(index=False) == whole.to_csv(index=False)


@pytest.mark.req("DC-21")
def test_dc_21_a_failed_shard_shows_as_failed_and_submit_refuses_what_cannot_run(
    monkeypatch, capsys, kube, cluster_env
):
    args = ["sweep", "submit", "--stack", "dev", "-s", "sma_cross", "-d", DATA, *GRID, "--kubernetes-host", kube.url]
    code, out, _ = cli(monkeypatch, capsys, *args, "--shards", "2")
    sweep_id = out.strip()
    job = kube.created[0]["metadata"]["name"]
    kube.finish_index("tradeops-dev", job, 1, succeeded=False)
    code, out, err = cli(monkeypatch, capsys, "sweep", "status", sweep_id, "--kubernetes-host", kube.url)
    assert code == 0 and "failed shard(s): 1" in err
    code, _, err = cli(monkeypatch, capsys, *args, "--shards", "500")
    assert code == 2 and "--shards 500: this stack allows 1 to 200" in err
    code, _, err = cli(monkeypatch, capsys, *args[:3], "prod", *args[4:], "--shards", "2")
    assert code == 2 and "no such stack file" in err
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    code, _, err = cli(monkeypatch, capsys, "sweep", "shard", sweep_id)
    assert code == 2 and "JOB_COMPLETION_INDEX is not set" in err
    code, _, err = cli(monkeypatch, capsys, "sweep", "collect", "nosuchsweep")
    assert code == 2 and "no sweep run nosuchsweep" in err
