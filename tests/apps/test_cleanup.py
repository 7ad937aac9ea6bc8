"""Cleanup: old runs, orphaned objects and old finished Jobs go; what the deployed version needs stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.apps.cli.test_cli import cli
from tests.fakes.kubernetes_api import FakeKubernetes, job
from tradeops.cleanup import CleanupPolicy, run_cleanup
from tradeops.cleanup.jobs import KubernetesJobs
from tradeops.cleanup.report import render_markdown, save
from tradeops.store import RunStore, open_object_store
from tradeops.store.models import RunRow

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def kube():
    fake = FakeKubernetes()
    yield fake
    fake.stop()


def aged_run(store: RunStore, objects, days: float, strategy="sma_cross", config_hash=None) -> str:
    run = store.create(
        kind="backtest", strategy=strategy, params={}, request={}, data_ref="sample:GOOG", config_hash=config_hash
    )
    store.mark_running(run.id)
    store.fail(run.id, "x")
    with store._session.begin() as session:
        session.execute(update(RunRow).where(RunRow.id == run.id).values(created_at=NOW - timedelta(days=days)))
    objects.put(f"runs/{run.id}/report.html", b"r" * 1000)
    return run.id


@pytest.mark.req("OE-2", "WS-4")
def test_oe_2_ws_4_old_runs_and_orphans_go_recent_and_protected_ones_stay(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    objects = open_object_store((tmp_path / "o").as_uri())
    ancient = [aged_run(store, objects, 90 + i) for i in range(5)]
    recent = aged_run(store, objects, 2)
    deployed = aged_run(store, objects, 200, config_hash="deployed-hash")
    objects.put("runs/gone123/report.html", b"o" * 500)
    policy = CleanupPolicy(run_days=30, keep_per_strategy=2)
    preview = run_cleanup(store, objects, policy, dry_run=True, protected_hashes={"deployed-hash"}, now=NOW)
    assert len(store.finished_runs()) == 7 and preview.bytes_freed == 4 * 1000 + 500
    report = run_cleanup(store, objects, policy, protected_hashes={"deployed-hash"}, now=NOW)
    remaining = {r.id for r in store.finished_runs()}
    assert remaining == {recent, deployed, ancient[0]}  # recent is one of the newest 2
    assert objects.keys("runs/") == sorted(f"runs/{i}/report.html" for i in remaining)
    whys = {item["what"]: item["why"] for item in report.kept}
    assert whys[f"run {deployed}"] == "the deployed candidate's verdict"
    assert "one of the newest 2" in whys[f"run {ancient[0]}"]
    assert {item["what"] for item in report.removed} == {f"run {i}" for i in ancient[1:]} | {
        "object runs/gone123/report.html"
    }
    markdown = render_markdown(report)
    assert "4,500 bytes freed" in markdown and "the deployed candidate's verdict" in markdown
    key = save(report, objects)
    assert json.loads(objects.get(key.replace(".md", ".json")))["bytes_freed"] == 4500
    store.close()


@pytest.mark.req("OE-2")
def test_oe_2_finished_jobs_are_deleted_through_the_kubernetes_api_except_the_deployed_ones(kube):
    old, fresh = (
        (NOW - timedelta(hours=50)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    kube.add(
        job(
            "gate-old",
            "tradeops-prod",
            finished=old,
            outcome="Failed",
            annotations={"tradeops.io/candidate-hash": "old-hash"},
        )
    )
    kube.add(job("gate-current", "tradeops-prod", finished=old, annotations={"tradeops.io/candidate-hash": "deployed"}))
    kube.add(job("backup-1", "tradeops-prod", finished=old, labels={"app.kubernetes.io/version": "v1"}))
    kube.add(job("backup-2", "tradeops-prod", finished=fresh, labels={"app.kubernetes.io/version": "v1"}))
    kube.add(job("running", "tradeops-prod", finished=None))
    kube.add(job("elsewhere", "other", finished=old))
    jobs = KubernetesJobs("tradeops-prod", host=kube.url)
    assert {j.name for j in jobs.finished()} == {"gate-old", "gate-current", "backup-1", "backup-2"}

    class NoRuns:
        def finished_runs(self):
            return []

        def unfinished_ids(self):
            return set()

    report = run_cleanup(
        NoRuns(),
        open_object_store("file:///tmp/tradeops-empty-objects"),
        CleanupPolicy(),
        jobs=jobs,
        protected_hashes={"deployed"},
        current_version="v2",
        now=NOW,
    )
    assert sorted(kube.deleted) == [
        ("tradeops-prod", "backup-1", "Background"),
        ("tradeops-prod", "gate-old", "Background"),
    ]
    assert (
        set(kube.jobs["tradeops-prod"]) == {"gate-current", "backup-2", "running"} and "elsewhere" in kube.jobs["other"]
    )
    assert any(r["what"] == "job gate-old" and r["why"].startswith("failed 50 h ago") for r in report.removed)


@pytest.mark.req("OE-2", "WS-4")
def test_oe_2_ws_4_cleanup_command_reports_and_notifies(monkeypatch, capsys, tmp_path, kube):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRADEOPS_NAMESPACE", "tradeops-dev")
    kube.add(job("old", "tradeops-dev", finished="2020-01-01T00:00:00Z"))
    code, out, _ = cli(monkeypatch, capsys, "cleanup", "--dry-run", "--kubernetes-host", kube.url)
    assert code == 0 and "(dry run: nothing was deleted)" in out and "job old" in out and kube.deleted == []
    code, out, _ = cli(monkeypatch, capsys, "cleanup", "--kubernetes-host", kube.url)
    assert code == 0 and kube.deleted == [("tradeops-dev", "old", "Background")]
    notes = [json.loads(line) for line in (tmp_path / "data" / "notifications.log").read_text().splitlines()]
    assert [n["kind"] for n in notes] == ["cleanup_report", "cleanup_report"]
    assert notes[1]["fields"]["report"].startswith("cleanup/") and notes[1]["fields"]["report"].endswith("report.md")


@pytest.mark.req("DC-21", "OE-2")
def test_dc_21_oe_2_finished_sweep_jobs_go_by_retention_and_uncollected_parts_with_them(kube, tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    objects = open_object_store((tmp_path / "objects").as_uri())
    old = (NOW - timedelta(hours=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = {}
    for name in ("collected", "forgotten"):
        run = store.create(kind="sweep", strategy="sma_cross", params={}, request={}, data_ref="sample:GOOG")
        store.mark_running(run.id)
        objects.put(f"runs/{run.id}/parts/part-00000.parquet", b"x" * 100)
        kube.add(job(f"tradeops-sweep-{name}", "tradeops-dev", finished=old, labels={"tradeops.io/sweep": run.id}))
        ids[name] = run.id
    store.finish(
        ids["collected"],
        result={},
        metrics=None,
        verdict=None,
        data_fingerprint=None,
        engine_version="t",
        report_key=None,
    )
    report = run_cleanup(store, objects, CleanupPolicy(), jobs=KubernetesJobs("tradeops-dev", host=kube.url), now=NOW)
    assert kube.jobs["tradeops-dev"] == {}
    assert objects.keys(f"runs/{ids['forgotten']}/") == []
    assert objects.keys(f"runs/{ids['collected']}/") == [f"runs/{ids['collected']}/parts/part-00000.parquet"]
    forgotten = store.get(ids["forgotten"])
    assert forgotten is not None and forgotten.status == "failed" and "not collected" in (forgotten.error or "")
    assert {"what": f"sweep {ids['forgotten']}", "why": "its Job finished and was removed uncollected (1 objects)"} in (
        report.removed
    )
    store.close()
