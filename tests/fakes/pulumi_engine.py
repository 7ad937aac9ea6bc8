"""A local Pulumi engine: runs the real program under Pulumi's mocks and diffs it against the stack's state.

It keeps one state per stack (resource URN -> inputs), answers `preview` and `up` with Pulumi's change
summary (create / update / delete / same), fails `up` or `preview` when scripted (as a failed gate Job
fails a real update, leaving the state as it was), and records every call in order.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.deploy.engine import EngineError, Outcome, Target
from pipelines.infra.evaluate import evaluate


class FakeEngine:
    """Implements pipelines.deploy.engine.Engine."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, str]] = {}  # stack -> urn -> inputs as canonical JSON (Pulumi's state)
        self.live: dict[str, dict[str, str]] = {}  # what the cluster holds; differs from state after drift
        self.outputs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, Target]] = []
        self.fail_up: list[str] = []  # reasons for the next `up` calls to fail with
        self.fail_preview: list[str] = []
        self.builds: dict[str, list[str]] = {}  # stack -> images the last evaluation built (none when pinned)
        self.on_up: list[Any] = []  # callables run after a successful `up` (e.g. roll the services to the version)

    def _declare(self, target: Target) -> tuple[dict[str, str], dict[str, Any]]:
        config = {"tradeops:version": target.version, "tradeops:settings": target.settings}
        if target.bundle is not None:
            config["tradeops:bundle"] = target.bundle
        if target.bundle_id is not None:
            config["tradeops:bundleId"] = target.bundle_id
        evaluation = evaluate(target.stack, config=config)
        resources = {
            f"urn:pulumi:{target.stack}::tradeops::{r.type}::{r.name}": json.dumps(r.inputs, sort_keys=True)
            for r in evaluation.resources
        }
        self.builds[target.stack] = [
            r.inputs["imageName"] for r in evaluation.resources if r.type.startswith("docker:")
        ]
        gate_job = next(r for r in evaluation.resources if r.type == "kubernetes:batch/v1:Job" and r.name == "gate-job")
        pod = gate_job.inputs["spec"]["template"]
        outputs = {
            "version": target.version,
            "image": pod["spec"]["containers"][0]["image"],  # what every workload runs: built here or pinned
            "namespace": target.settings["namespace"],
        }
        if "tradeops.io/bundle-id" in pod["metadata"]["annotations"]:
            outputs["bundle_id"] = pod["metadata"]["annotations"]["tradeops.io/bundle-id"]
        return resources, outputs

    def _diff(self, stack: str, declared: dict[str, str]) -> dict[str, int]:
        current = self.state.get(stack, {})
        changes = {
            "create": len(declared.keys() - current.keys()),
            "delete": len(current.keys() - declared.keys()),
            "update": sum(1 for urn in declared.keys() & current.keys() if declared[urn] != current[urn]),
            "same": sum(1 for urn in declared.keys() & current.keys() if declared[urn] == current[urn]),
        }
        return {op: n for op, n in changes.items() if n}

    def preview(self, target: Target, *, refresh: bool = False, expect_no_changes: bool = False) -> Outcome:
        self.calls.append(("preview", target))
        if self.fail_preview:
            raise EngineError(f"pulumi preview --stack {target.stack} failed: {self.fail_preview.pop(0)}")
        if refresh:
            self.state[target.stack] = dict(self.live.get(target.stack, {}))
        declared, _ = self._declare(target)
        changes = self._diff(target.stack, declared)
        changed = sum(n for op, n in changes.items() if op != "same")
        if expect_no_changes and changed:
            raise EngineError(
                f"pulumi preview --stack {target.stack} failed: error: no changes were expected but changes were "
                f"proposed ({changed} resource(s) would change)"
            )
        return Outcome(changes, log=f"Previewing update ({target.stack}):\n{target.message}\n")

    def up(self, target: Target) -> Outcome:
        self.calls.append(("up", target))
        if self.fail_up:
            raise EngineError(f"pulumi up --stack {target.stack} failed: {self.fail_up.pop(0)}")
        declared, outputs = self._declare(target)
        changes = self._diff(target.stack, declared)
        self.state[target.stack], self.live[target.stack] = declared, dict(declared)
        self.outputs[target.stack] = outputs
        for hook in self.on_up:
            hook(target)
        return Outcome(changes, outputs, log=f"Updating ({target.stack}):\n{target.message}\n")

    def drift(self, stack: str, urn_part: str) -> None:
        """Change a deployed resource out of band (like `kubectl scale`): only a refresh sees it."""
        urn = next(u for u in self.live[stack] if urn_part in u)
        inputs = json.loads(self.live[stack][urn])
        inputs["drifted"] = True
        self.live[stack][urn] = json.dumps(inputs, sort_keys=True)
