"""`preview`: `pulumi preview` of each affected stack at this commit (and the scheduled drift check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.deploy.engine import Engine, EngineError, Target, summary_line
from pipelines.infra.evaluate import stack_config


def preview_stack(
    engine: Engine,
    stack: str,
    version: str,
    git_sha: str,
    out: Path,
    *,
    drift: bool = False,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Preview one stack; write `preview-<stack>.json` into `out`. With `drift`: refresh and expect no changes.

    `settings` default to the stack file at this commit; the drift check passes the current release's.
    """
    if settings is None:
        settings = stack_config(stack)["tradeops:settings"]
    message = f"{'drift check' if drift else 'preview'} {version} ({git_sha[:12]})"
    target = Target(stack, version, git_sha, settings, message)
    try:
        outcome = engine.preview(target, refresh=drift, expect_no_changes=drift)
        body: dict[str, Any] = {
            "stack": stack,
            "changes": outcome.changes,
            "summary": summary_line(outcome.changes),
            "changed": outcome.changed,
            "error": None,
        }
    except EngineError as error:
        body = {"stack": stack, "changes": {}, "summary": "preview failed", "changed": None, "error": str(error)}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"preview-{stack}.json").write_text(json.dumps(body, indent=2) + "\n")
    return body
