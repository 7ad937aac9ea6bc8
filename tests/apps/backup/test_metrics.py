"""RPO and RTO reach /metrics, where the BackupStale alert reads them."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.apps.service.conftest import backtester
from tradeops.backup import BackupRepository
from tradeops.store import open_object_store


@pytest.mark.req("OE-1", "OE-4")
def test_oe_1_oe_4_backtester_metrics_publish_rpo_and_rto(tmp_path):
    data = tmp_path / "data"
    with backtester(data) as api:
        assert "tradeops_backups 0.0" in api.get("/metrics").text
    repository = BackupRepository(f"sqlite:///{data / 'tradeops.db'}", open_object_store((data / "objects").as_uri()))
    made = repository.create()
    checked = repository.verify(made.id)
    with backtester(data) as api:
        text = api.get("/metrics").text
    values = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}
    assert values["tradeops_backups"] == 1
    assert values["tradeops_backup_last_verified_timestamp_seconds"] == pytest.approx(made.created_at.timestamp())
    assert values["tradeops_backup_rto_seconds"] == checked.restore_seconds
    assert 0 <= values["tradeops_backup_rpo_seconds"] < 600
