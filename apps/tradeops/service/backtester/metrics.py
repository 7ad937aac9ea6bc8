"""The last gate verdict as Prometheus metrics (what the GateFailed alert watches)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tradeops.store import RunStore


class GateCollector(Collector):
    """1/0 for the newest finished gate run (from the API or the watcher), and when it finished."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        passed = GaugeMetricFamily("tradeops_gate_last_passed", "1 when the newest gate verdict passed")
        finished = GaugeMetricFamily("tradeops_gate_last_timestamp_seconds", "when the newest gate verdict came")
        newest = self.store.latest(kind="gate")  # from the API or the watcher
        if newest is not None:
            passed.add_metric([], float(bool((newest.verdict or {}).get("passed"))))
            stamp = newest.finished_at or newest.created_at
            finished.add_metric([], stamp.timestamp())
        yield passed
        yield finished
