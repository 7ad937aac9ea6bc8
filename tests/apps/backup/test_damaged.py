"""A damaged backup never takes a command or monitoring down, and a failed verify is never "verified"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.apps.backup.conftest import fill
from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import backtester
from tests.fakes.servers import free_port
from tradeops.backup import BackupRepository
from tradeops.monitor import check_backups
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("DC-17")


@pytest.fixture
def local(monkeypatch, tmp_path) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    data.mkdir()
    fill(f"sqlite:///{data / 'tradeops.db'}", runs=10)
    return data


def repository_of(data: Path) -> BackupRepository:
    return BackupRepository(f"sqlite:///{data / 'tradeops.db'}", open_object_store((data / "objects").as_uri()))


def metric_values(text: str) -> dict[str, float]:
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_dc_17_a_truncated_manifest_is_listed_as_corrupt_skipped_and_alerted_on(local, monkeypatch, capsys):
    repository = repository_of(local)
    good, bad = repository.create(), repository.create()
    repository.verify(good.id)
    manifest = local / "objects" / "backups" / bad.id / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])
    code, out, err = cli(monkeypatch, capsys, "backup", "list")
    assert code == 0 and f"{bad.id}  CORRUPT" in out and f"{good.id}  scheduled" in out, (out, err)
    assert "Traceback" not in out + err and "1 corrupt backup(s) skipped" in err
    code, out, _ = cli(monkeypatch, capsys, "backup", "list", "--json")
    statuses = {b["id"]: b["status"] for b in json.loads(out)}
    assert code == 0 and statuses == {good.id: "verified", bad.id: "corrupt"}
    code, out, err = cli(monkeypatch, capsys, "backup", "prune", "--keep-last", "1", "--daily-days", "0")
    assert code == 0 and "Traceback" not in err and manifest.exists()  # skipped: never pruned unseen
    code, _, err = cli(monkeypatch, capsys, "backup", "verify", bad.id)
    assert code == 2 and "manifest is corrupt" in err and "Traceback" not in err
    finding = check_backups(repository.database.url, repository.objects, max_age_hours=24)
    assert not finding.healthy and f"corrupt: {bad.id}" in finding.detail
    with backtester(local) as api:
        answer = api.get("/metrics")
    values = metric_values(answer.text)
    assert answer.status_code == 200 and values["tradeops_backups_corrupt"] == 1 and values["tradeops_backups"] == 1
    assert values["tradeops_backup_metrics_errors_total"] == 0


def test_dc_17_metrics_and_backup_commands_answer_when_s3_is_unreachable(local, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with backtester(local, object_store="s3://bucket/prefix", s3_endpoint_url=nowhere) as api:
        answer = api.get("/metrics")
    values = metric_values(answer.text)
    assert answer.status_code == 200 and values["tradeops_backup_metrics_errors_total"] == 1
    assert "tradeops_jobs_queued" in answer.text  # the other metrics survive
    monkeypatch.setenv("TRADEOPS_OBJECT_STORE", "s3://bucket/prefix")
    monkeypatch.setenv("TRADEOPS_S3_ENDPOINT_URL", nowhere)
    for command in (["backup", "list"], ["backup", "prune"], ["backup", "create"]):
        code, _, err = cli(monkeypatch, capsys, *command)
        assert code == 2 and "object store s3://bucket/prefix" in err and "Traceback" not in err, (command, err)


def test_dc_17_a_failed_verify_is_recorded_and_no_longer_counts_as_restorable(local, monkeypatch, capsys):
    repository = repository_of(local)
    made = repository.create()
    repository.verify(made.id)
    dump = local / "objects" / "backups" / made.id / "dump"
    dump.write_bytes(dump.read_bytes() + b"appended")
    code, _, err = cli(monkeypatch, capsys, "backup", "verify", made.id)
    assert code == 2 and "truncated or padded" in err
    code, out, _ = cli(monkeypatch, capsys, "backup", "list", "--json")
    (view,) = json.loads(out)
    assert view["status"] == "failed" and view["verified"] is False and "truncated or padded" in view["error"]
    assert repository.recovery() == {"rpo_seconds": None, "rto_seconds": None}
    finding = check_backups(repository.database.url, repository.objects, max_age_hours=24)
    assert not finding.healthy and "no verified backup" in finding.detail
    with backtester(local) as api:
        values = metric_values(api.get("/metrics").text)
    assert values["tradeops_backups_verify_failed"] == 1
    assert "tradeops_backup_last_verified_timestamp_seconds" not in values
    dump.write_bytes(dump.read_bytes()[: -len(b"appended")])  # repaired: a passing verify clears the failure
    code, _, _ = cli(monkeypatch, capsys, "backup", "verify", made.id)
    assert code == 0 and repository.list_backups()[0].status == "verified"


def test_dc_17_the_scheduled_backup_verifies_what_it_made(local, monkeypatch, capsys):
    code, out, err = cli(monkeypatch, capsys, "backup", "create", "--kind", "scheduled", "--verify")
    assert code == 0, err
    backup_id, verified_line = out.strip().splitlines()
    assert verified_line.startswith(f"{backup_id}: verified (")
    (view,) = repository_of(local).list_backups()
    assert view.id == backup_id and view.verified and view.restore_seconds is not None
    kinds = [json.loads(line)["kind"] for line in (local / "notifications.log").read_text().splitlines()]
    assert kinds == ["backup_created"]
    code, out, err = cli(monkeypatch, capsys, "backup", "create", "--verify", "--json")
    assert code == 0 and json.loads(out)["id"] in err and ": verified (" in err  # stdout stays one JSON object
