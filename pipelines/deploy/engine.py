"""The Pulumi Automation API behind a small interface; the real engine stays thin.

An `Engine` previews and updates one stack for a given version, git sha and `tradeops:settings`.
The real one drives `pulumi.automation` (it needs the `pulumi` CLI, a state backend and a cluster);
tests use a local engine that records calls and answers like Pulumi does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipelines.git import git
from tradeops.errors import TradeopsError


class EngineError(TradeopsError):
    """`pulumi preview` or `pulumi up` failed; the message carries Pulumi's reason."""


class MissingPulumi(EngineError):
    """The `pulumi` CLI the Automation API drives is not installed here."""


@dataclass(frozen=True)
class Target:
    """What to preview or deploy: the stack, the release version, the commit and the settings."""

    stack: str
    version: str
    git_sha: str
    settings: dict[str, Any]
    message: str
    bundle: dict[str, Any] | None = None  # `tradeops:bundle`: commit, verdict, dataset (and a promotion's image)
    bundle_id: str | None = None  # `tradeops:bundleId`: a stored bundle's id, checked before `up`, carried as is


@dataclass(frozen=True)
class Outcome:
    """Resource operations by kind (Pulumi's change summary: create, update, delete, replace, same) and outputs."""

    changes: dict[str, int]
    outputs: dict[str, Any] = field(default_factory=dict)
    log: str = ""

    @property
    def changed(self) -> int:
        return sum(n for op, n in self.changes.items() if op != "same")


class Engine(Protocol):
    """Preview and update stacks."""

    def preview(self, target: Target, *, refresh: bool = False, expect_no_changes: bool = False) -> Outcome: ...
    def up(self, target: Target) -> Outcome: ...


def summary_line(changes: dict[str, int]) -> str:
    """`2 to create, 1 to update, 40 unchanged` in Pulumi's order."""
    order = ("create", "update", "replace", "delete", "same")
    parts = [f"{changes[op]} {'unchanged' if op == 'same' else op}" for op in order if changes.get(op)]
    parts += [f"{n} {op}" for op, n in sorted(changes.items()) if op not in order and n]
    return ", ".join(parts) or "no resources"


@contextmanager
def checkout(git_sha: str) -> Iterator[Path]:
    """The program as of `git_sha` in a temporary `git worktree`, never the working copy: the Automation
    API writes the stack's config file, which must not touch a person's checkout."""
    with tempfile.TemporaryDirectory(prefix="tradeops-release-") as folder:
        try:
            git("worktree", "add", "--detach", folder, git_sha)
        except subprocess.CalledProcessError as error:
            raise EngineError(
                f"cannot check out {git_sha[:12]}: {error.stderr.strip() or error} (a shallow clone? fetch the history)"
            ) from None
        try:
            yield Path(folder)
        finally:
            git("worktree", "remove", "--force", folder, check=False)


class PulumiEngine:
    """`pulumi preview` / `pulumi up` through the Automation API, with the policy pack, per stack."""

    def __init__(self) -> None:
        if shutil.which("pulumi") is None:  # a missing dependency, found before the deploy does anything (exit 2)
            raise MissingPulumi(
                "the pulumi CLI is not on PATH: deploys and previews run it; install it "
                "(docs/deployment.md, What a real deployment needs), or see the manifests offline with "
                "`tradeops infra render`"
            )

    def _run(self, command: str, target: Target, run: Callable[[Any, Path], Any]) -> Any:
        from pulumi import automation

        with checkout(target.git_sha) as work_dir:
            try:
                stack = automation.select_stack(stack_name=target.stack, work_dir=str(work_dir))
                stack.set_config("tradeops:version", automation.ConfigValue(target.version))
                stack.set_config("tradeops:settings", automation.ConfigValue(json.dumps(target.settings)))
                if target.bundle is not None:
                    stack.set_config("tradeops:bundle", automation.ConfigValue(json.dumps(target.bundle)))
                else:
                    stack.remove_config("tradeops:bundle")
                if target.bundle_id is not None:
                    stack.set_config("tradeops:bundleId", automation.ConfigValue(target.bundle_id))
                else:
                    stack.remove_config("tradeops:bundleId")
                return run(stack, work_dir / "infra" / "policy")
            except FileNotFoundError:
                raise EngineError(f"pulumi {command}: the pulumi CLI is not installed (docs/deployment.md)") from None
            except automation.errors.CommandError as error:
                raise EngineError(f"pulumi {command} --stack {target.stack} failed: {error}") from None

    def preview(self, target: Target, *, refresh: bool = False, expect_no_changes: bool = False) -> Outcome:
        result = self._run(
            "preview",
            target,
            lambda stack, policy: stack.preview(
                message=target.message,
                refresh=refresh,
                expect_no_changes=expect_no_changes,
                diff=True,
                policy_packs=[str(policy)],
            ),
        )
        return Outcome(_ops(result.change_summary), log=result.stdout)

    def up(self, target: Target) -> Outcome:
        result = self._run(
            "up", target, lambda stack, policy: stack.up(message=target.message, policy_packs=[str(policy)])
        )
        outputs = {key: value.value for key, value in result.outputs.items()}
        return Outcome(_ops(result.summary.resource_changes or {}), outputs, result.stdout)


def _ops(summary: Any) -> dict[str, int]:
    return {str(getattr(op, "value", op)): int(n) for op, n in summary.items()}


def open_engine() -> Engine:
    """The engine the CLI uses: Pulumi's Automation API (needs the `pulumi` CLI on PATH)."""
    return PulumiEngine()
