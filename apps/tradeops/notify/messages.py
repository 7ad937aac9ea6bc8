"""The messages tradeops sends: backtest finished, gate verdict, regression detected."""

from __future__ import annotations

from typing import Any

from tradeops.notify.base import Message
from tradeops.store.runs import Run


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.4g}" if isinstance(value, float) else str(value)


def run_finished(run: Run) -> Message:
    """A run ended: its headline metrics, or why it failed."""
    params = ", ".join(f"{k}={v}" for k, v in run.params.items())
    if run.status != "done":
        return Message(
            kind=f"{run.kind}_failed",
            title=f"{run.kind} {run.strategy}({params}) {run.status}",
            lines=[run.error or ""],
            thread_key=run.id,
            ok=False,
        )
    metrics = run.metrics or {}
    fields = {name: _number(metrics.get(name)) for name in ("total_return_pct", "sharpe", "max_drawdown_pct", "trades")}
    fields["data"] = run.data_ref
    return Message(
        kind=f"{run.kind}_finished",
        title=f"{run.kind} {run.strategy}({params}) finished",
        fields=fields,
        thread_key=run.id,
    )


SELECTION_CHECKS = ("min_deflated_sharpe", "max_pbo", "champion")


def gate_verdict(run: Run) -> Message:
    """The gate's verdict: each failed check's value, limit and detail; how the candidate was found, always."""
    verdict = run.verdict or {}
    passed = bool(verdict.get("passed"))
    checks = verdict.get("checks", [])
    failed = [c for c in checks if not c["passed"]]
    lines = [f"FAILED {c['name']}: value {_number(c['value'])}, limit {_number(c['limit'])}" for c in failed]
    lines = [line + (f" ({c['detail']})" if c.get("detail") else "") for line, c in zip(lines, failed, strict=True)]
    lines += [
        f"{c['name']}: value {_number(c['value'])}, limit {_number(c['limit'])} ({c.get('detail') or 'pass'})"
        for c in checks
        if c["passed"] and c["name"] in SELECTION_CHECKS
    ]
    if verdict.get("error"):
        lines.append(f"undecided: {verdict['error']}")
    word = "PASSED" if passed else "FAILED"
    return Message(
        kind="gate_verdict",
        title=f"gate {word} for {run.strategy} ({run.data_ref})",
        fields={"exit_code": str(verdict.get("exit_code")), "checks": str(len(verdict.get("checks", [])))},
        lines=lines,
        thread_key=run.id,
        ok=passed,
    )


def regression(run: Run, previous: Run, reasons: list[str]) -> Message:
    """The new configuration does worse than the one before it."""
    return Message(
        kind="regression",
        title=f"regression: {run.strategy} is worse than the previous configuration",
        fields={"run": run.id, "previous": previous.id},
        lines=reasons,
        thread_key=run.id,
        ok=False,
    )
