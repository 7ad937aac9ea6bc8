"""`gate`: the real backtest gate on the candidate of each changed stack; verdict JSON and HTML report per stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.config import StackConfigError, parse_stack_config

from pipelines.deploy.hooks import judge
from pipelines.infra.evaluate import stack_config
from tradeops.gate import Verdict
from tradeops.reports import write_report


def gate_stack(stack: str, out: Path) -> dict[str, Any]:
    """Judge the stack's candidate; write `gate-<stack>.json` (and `.html` when it could be run) into `out`."""
    values = stack_config(stack)
    try:
        config = parse_stack_config(values.get("tradeops:settings"), str(values.get("tradeops:version", "dev")))
        verdict, result = judge(config, stack=stack)  # against the bundle the stack runs, when the store has one
    except StackConfigError as error:
        verdict, result = Verdict(error=str(error)), None
    out.mkdir(parents=True, exist_ok=True)
    body = {"stack": stack, **verdict.to_dict()}
    (out / f"gate-{stack}.json").write_text(json.dumps(body, indent=2, default=str, allow_nan=False) + "\n")
    if result is not None:
        write_report(out / f"gate-{stack}.html", result, verdict)
    return body
