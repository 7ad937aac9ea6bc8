"""The stack candidate's verdict: what the gate Job records and the only gate run the gate alert reads.

Anyone may gate anything (the API, the MCP server, the Slack bot, the CLI): those runs are
exploratory and never speak for the stack. The gate Job judges the candidate in the stack config
and records its verdict with source `stack`; `tradeops_gate_last_passed`, TradeopsGateFailed and
the gate line of `tradeops monitor` read the newest of those only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradeops.store.runs import DONE, FINAL, Run, RunStore

if TYPE_CHECKING:
    from tradeops.gate.candidate import Candidate
    from tradeops.gate.verdict import Verdict

STACK_SOURCE = "stack"


def record_stack_verdict(store: RunStore, candidate: Candidate | None, verdict: Verdict) -> Run:
    """Store `verdict` as the stack candidate's; an undecided verdict is stored as a failed run (never a pass).

    `candidate` is None when the candidate itself could not be read: its verdict is undecided and recorded too.
    """
    from tradeops.engine.result import ENGINE_VERSION

    run = store.create(
        kind="gate",
        source=STACK_SOURCE,
        strategy=candidate.strategy if candidate else "?",
        params=dict(candidate.params) if candidate else {},
        request=candidate.model_dump(mode="json") if candidate else {},
        data_ref=candidate.data if candidate else "?",
        running=True,
    )
    payload = verdict.to_dict()
    if verdict.error is not None and not verdict.checks:
        store.fail(run.id, verdict.error)
    else:
        result: dict[str, Any] | None = payload["result"]
        store.finish(
            run.id,
            result=payload,
            metrics=result["metrics"] if result else None,
            verdict={k: v for k, v in payload.items() if k not in ("result", "candidate")},
            data_fingerprint=result["data"]["fingerprint"] if result else None,
            engine_version=ENGINE_VERSION,
            report_key=None,
        )
    recorded = store.get(run.id)
    assert recorded is not None
    return recorded


def latest_stack_verdict(store: RunStore) -> Run | None:
    """The newest verdict the gate Job recorded for the stack's candidate (failed runs included: undecided)."""
    return store.latest(kind="gate", source=STACK_SOURCE, statuses=FINAL)


def stack_verdict_passed(run: Run) -> bool:
    """True only for a finished run whose verdict passed."""
    return run.status == DONE and bool((run.verdict or {}).get("passed"))
