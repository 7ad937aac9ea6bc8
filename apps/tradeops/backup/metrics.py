"""Backup health as Prometheus metrics (what the backup alerts watch), read from the object store."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tradeops.backup.repository import BackupRepository


class BackupCollector(Collector):
    """Newest verified backup time, RPO, RTO, corrupt and failed backups; cached so scrapes stay cheap.

    A store that cannot be read never fails the scrape: the last good figures stay (or none yet)
    and `tradeops_backup_metrics_errors_total` counts the failures; a failure is cached like a
    success, so an unreachable store costs one slow scrape per TTL, not every scrape.
    """

    def __init__(self, repository: BackupRepository, ttl_seconds: float = 60.0) -> None:
        self.repository = repository
        self.ttl = ttl_seconds
        self.errors = 0
        self._measured_at: float | None = None
        self._figures: list[Metric] = []

    def _measure(self) -> list[Metric]:
        views, corrupt = self.repository.inventory()
        verified = [v for v in views if v.verified]
        newest = GaugeMetricFamily(
            "tradeops_backup_last_verified_timestamp_seconds", "creation time of the newest verified backup"
        )
        rpo = GaugeMetricFamily("tradeops_backup_rpo_seconds", "age of the newest verified backup")
        rto = GaugeMetricFamily("tradeops_backup_rto_seconds", "measured test-restore time of that backup")
        count = GaugeMetricFamily("tradeops_backups", "complete backups in the store")
        count.add_metric([], len(views))
        broken = GaugeMetricFamily("tradeops_backups_corrupt", "backups whose manifest cannot be read")
        broken.add_metric([], len(corrupt))
        failed = GaugeMetricFamily("tradeops_backups_verify_failed", "backups whose last test restore failed")
        failed.add_metric([], sum(v.status == "failed" for v in views))
        if verified:
            newest.add_metric([], verified[0].created_at.timestamp())
            rpo.add_metric([], time.time() - verified[0].created_at.timestamp())
            rto.add_metric([], verified[0].restore_seconds or 0.0)
        return [newest, rpo, rto, count, broken, failed]

    def collect(self) -> Iterator[Metric]:
        if self._measured_at is None or time.monotonic() - self._measured_at > self.ttl:
            self._measured_at = time.monotonic()
            try:
                self._figures = self._measure()
            except Exception:  # noqa: BLE001 - any store failure: the scrape must still answer
                self.errors += 1
        yield from self._figures
        errors = CounterMetricFamily(
            "tradeops_backup_metrics_errors", "scrapes whose backup figures could not be read from the store"
        )
        errors.add_metric([], self.errors)
        yield errors
