"""Backup health as Prometheus metrics (what the BackupStale alert watches), read from the object store."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tradeops.backup.repository import BackupRepository


class BackupCollector(Collector):
    """Newest verified backup time, RPO and RTO; cached so scrapes stay cheap."""

    def __init__(self, repository: BackupRepository, ttl_seconds: float = 60.0) -> None:
        self.repository = repository
        self.ttl = ttl_seconds
        self._cached: tuple[float, list[GaugeMetricFamily]] | None = None

    def _measure(self) -> list[GaugeMetricFamily]:
        views = self.repository.list_backups()
        verified = [v for v in views if v.verified]
        newest = GaugeMetricFamily(
            "tradeops_backup_last_verified_timestamp_seconds", "creation time of the newest verified backup"
        )
        rpo = GaugeMetricFamily("tradeops_backup_rpo_seconds", "age of the newest verified backup")
        rto = GaugeMetricFamily("tradeops_backup_rto_seconds", "measured test-restore time of that backup")
        count = GaugeMetricFamily("tradeops_backups", "complete backups in the store")
        count.add_metric([], len(views))
        if verified:
            newest.add_metric([], verified[0].created_at.timestamp())
            rpo.add_metric([], time.time() - verified[0].created_at.timestamp())
            rto.add_metric([], verified[0].restore_seconds or 0.0)
        return [newest, rpo, rto, count]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._cached is None or time.monotonic() - self._cached[0] > self.ttl:
            self._cached = (time.monotonic(), self._measure())
        yield from self._cached[1]
