"""`tradeops monitor --once` tells a healthy local stack from an unhealthy one."""

from __future__ import annotations

import json

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH
from tests.fakes.servers import free_port, uvicorn_server
from tradeops.backup import BackupRepository
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("OE-4")


@pytest.fixture
def stack(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    app = create_app(load_settings(data_dir=data, api_token=AUTH["Authorization"][7:]))
    with uvicorn_server(app) as url:
        yield data, url


def monitor(monkeypatch, capsys, *targets):
    args = [a for name, url in targets for a in ("--target", f"{name}={url}")]
    code, out, _ = cli(monkeypatch, capsys, "monitor", "--once", "--json", *args)
    return code, {c["name"]: c for c in json.loads(out)["checks"]}


def test_oe_4_a_ready_service_with_a_fresh_verified_backup_is_healthy(stack, monkeypatch, capsys):
    data, url = stack
    repository = BackupRepository(f"sqlite:///{data / 'tradeops.db'}", open_object_store((data / "objects").as_uri()))
    repository.verify(repository.create().id)
    code, checks = monitor(monkeypatch, capsys, ("backtester", url))
    assert code == 0, checks
    assert checks["backtester"]["healthy"] and "ready, version" in checks["backtester"]["detail"]
    assert checks["backups"]["healthy"] and checks["gate"]["detail"] == "no stack gate verdict yet"


def test_oe_4_missing_backups_a_down_service_and_a_failed_gate_are_unhealthy(stack, monkeypatch, capsys):
    _, url = stack
    code, _, _ = cli(  # the gate Job's verdict on the stack's candidate (an ad-hoc gate does not count: DC-51)
        monkeypatch, capsys, "gate", "--strategy", "sma_cross", "--threshold", "min_sharpe=9", "--stack-verdict"
    )
    assert code == 1
    code, checks = monitor(monkeypatch, capsys, ("backtester", url), ("trader", f"http://127.0.0.1:{free_port()}"))
    assert code == 1
    assert checks["backtester"]["healthy"] and not checks["trader"]["healthy"]
    assert "unreachable" in checks["trader"]["detail"]
    assert not checks["backups"]["healthy"] and "no verified backup" in checks["backups"]["detail"]
    assert not checks["gate"]["healthy"] and "FAILED" in checks["gate"]["detail"]
    code, out, _ = cli(monkeypatch, capsys, "monitor", "--once", "--target", f"backtester={url}")
    assert code == 1 and "UNHEALTHY" in out and "tradeops monitor" in out


def test_oe_4_cronjobs_must_have_succeeded_recently(monkeypatch, capsys, tmp_path):
    from datetime import UTC, datetime, timedelta

    from tests.fakes.kubernetes_api import FakeKubernetes, cronjob

    fake = FakeKubernetes()
    try:
        recent = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        fake.cronjobs["tradeops-dev"] = [
            cronjob("tradeops-backup", "tradeops-dev", last_success=recent),
            cronjob("tradeops-cleanup", "tradeops-dev", last_success=None),
        ]
        monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("TRADEOPS_NAMESPACE", "tradeops-dev")
        code, out, _ = cli(
            monkeypatch,
            capsys,
            "monitor",
            "--once",
            "--json",
            "--kubernetes-host",
            fake.url,
            "--target",
            f"backtester=http://127.0.0.1:{free_port()}",
        )
        checks = {c["name"]: c for c in json.loads(out)["checks"]}
        assert code == 1
        assert (
            checks["cronjob tradeops-backup"]["healthy"]
            and "last success 3.0 h ago" in checks["cronjob tradeops-backup"]["detail"]
        )
        assert (
            not checks["cronjob tradeops-cleanup"]["healthy"]
            and checks["cronjob tradeops-cleanup"]["detail"] == "has never succeeded"
        )
    finally:
        fake.stop()
    from tradeops.monitor import check_cronjobs

    (finding,) = check_cronjobs("tradeops-dev", max_age_hours=26, host=f"http://127.0.0.1:{free_port()}")
    assert not finding.healthy and "Kubernetes API unreachable" in finding.detail
