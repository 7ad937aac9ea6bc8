"""The stack candidate's gate verdict as Prometheus metrics (what the GateFailed alert watches)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tradeops.store import RunStore
from tradeops.store.stack_verdict import latest_stack_verdict, stack_verdict_passed


class GateCollector(Collector):
    """1/0 for the newest verdict the gate Job recorded for the stack's candidate, and when it came.

    Ad-hoc gate runs (API, MCP, Slack, CLI) are exploration and never change these; no sample until
    the gate Job has judged the stack's candidate once. An undecided verdict is 0.
    """

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        passed = GaugeMetricFamily("tradeops_gate_last_passed", "1 when the stack candidate's newest verdict passed")
        finished = GaugeMetricFamily(
            "tradeops_gate_last_timestamp_seconds", "when the stack candidate's newest verdict came"
        )
        newest = latest_stack_verdict(self.store)
        if newest is not None:
            passed.add_metric([], float(stack_verdict_passed(newest)))
            stamp = newest.finished_at or newest.created_at
            finished.add_metric([], stamp.timestamp())
        yield passed
        yield finished
