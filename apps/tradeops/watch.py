"""Automated backtests on parameter change: watch a candidate file, gate every new version of it.

The same loop runs on a laptop (`tradeops backtest watch CONFIG`) and in the cluster, where CONFIG
is the candidate ConfigMap mounted as a file (Kubernetes swaps the file when the ConfigMap changes).
Each new content is gated once, stored, compared with the previous configuration's last result,
and notified; a broken file is a failed run with its reason, never a crashed watcher.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tradeops.engine.result import ENGINE_VERSION
from tradeops.errors import TradeopsError
from tradeops.gate import run_gate
from tradeops.gate.candidate import candidate_from_text
from tradeops.notify import Notifier
from tradeops.notify.messages import gate_verdict, regression, run_finished
from tradeops.reports.html import render
from tradeops.store import ObjectStore, Run, RunStore
from tradeops.store.runs import FINAL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchOutcome:
    """One evaluation of one version of the watched file."""

    run: Run
    regressions: list[str] = field(default_factory=list)


def compare(current: Run, previous: Run, sharpe_drop: float) -> list[str]:
    """Return why `current` is worse than `previous` (empty when it is not)."""
    reasons = []
    was, now = (previous.verdict or {}).get("passed"), (current.verdict or {}).get("passed")
    if was and not now:
        reasons.append("gate verdict went from PASSED to FAILED")
    before, after = (previous.metrics or {}).get("sharpe"), (current.metrics or {}).get("sharpe")
    if isinstance(before, float) and isinstance(after, float) and before > 0 and after < before * (1 - sharpe_drop):
        reasons.append(f"Sharpe fell from {before:.3f} to {after:.3f} (more than {sharpe_drop:.0%})")
    return reasons


def _mapping(content: bytes) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError:
        return {}
    return raw if isinstance(raw, dict) else {}


class ConfigWatcher:
    """Poll one candidate file; gate each new content exactly once."""

    def __init__(
        self, path: Path, store: RunStore, objects: ObjectStore, notifier: Notifier, *, sharpe_drop: float = 0.25
    ) -> None:
        self.path, self.store, self.objects, self.notifier = path, store, objects, notifier
        self.sharpe_drop = sharpe_drop
        latest = store.latest(kind="gate", source="watch", statuses=FINAL)
        self.seen = latest.config_hash if latest else None  # crash-only: what was judged stays judged

    def poll_once(self) -> WatchOutcome | None:
        """Gate the file if its content changed since the last evaluation; return what happened."""
        try:
            content = self.path.read_bytes()  # read once: the hash, the record and the verdict are of one version
        except OSError:
            return None
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        if digest == self.seen:
            return None
        self.seen = digest
        return self.evaluate(digest, content)

    def evaluate(self, digest: str, content: bytes) -> WatchOutcome:
        previous = self.store.latest(kind="gate", source="watch", exclude_config=digest)
        raw = _mapping(content)
        params = raw.get("params")
        run = self.store.create(
            kind="gate",
            source="watch",
            strategy=str(raw.get("strategy", "?"))[:64],
            params=params if isinstance(params, dict) else {},
            request=raw,
            data_ref=str(raw.get("data", "?"))[:512],
            config_hash=digest,
        )
        self.store.mark_running(run.id)
        try:
            return self._judge(run, content, previous)
        except Exception as error:  # noqa: BLE001 - whatever went wrong becomes this run's reason, never a stuck run
            reason = (
                str(error) if isinstance(error, TradeopsError) else f"internal error: {type(error).__name__}: {error}"
            )
            self.store.fail(run.id, reason)
            failed = self.store.get(run.id)
            assert failed is not None
            self.notifier.send(run_finished(failed))
            return WatchOutcome(failed)

    def _judge(self, run: Run, content: bytes, previous: Run | None) -> WatchOutcome:
        verdict, result = run_gate(candidate_from_text(content, str(self.path)))
        payload = verdict.to_dict()
        report_key = None
        if result is not None:
            report_key = f"runs/{run.id}/report.html"
            self.objects.put(report_key, render(result, verdict).encode(), "text/html")
        summary = {k: v for k, v in payload.items() if k not in ("result", "candidate")}
        self.store.finish(
            run.id,
            result=payload,
            metrics=payload["result"]["metrics"] if payload["result"] else None,
            verdict=summary,
            data_fingerprint=payload["result"]["data"]["fingerprint"] if payload["result"] else None,
            engine_version=ENGINE_VERSION,
            report_key=report_key,
        )
        done = self.store.get(run.id)
        assert done is not None
        self.notifier.send(gate_verdict(done))
        reasons = compare(done, previous, self.sharpe_drop) if previous else []
        if previous and reasons:
            self.notifier.send(regression(done, previous, reasons))
        return WatchOutcome(done, reasons)

    def run(self, stop: threading.Event, interval: float) -> None:
        """Poll every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("watch evaluation failed; retrying at the next poll")
                self.seen = None
            stop.wait(interval)
