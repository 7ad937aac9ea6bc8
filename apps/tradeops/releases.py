"""The release history of each stack: one JSON document per deploy or rollback in the object store.

Deploys run in CI, where the object store is reachable and the in-cluster database often is not, so
releases and the gate verdicts they rest on live under `releases/<stack>/` and `verdicts/<stack>/`.
The Slack bot and `tradeops releases` read the same documents.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeops.bundles import Approval
from tradeops.errors import ConfigError
from tradeops.store.objects import ObjectStore

Result = Literal["succeeded", "failed", "rolled back"]


def new_id(prefix: str, at: datetime) -> str:
    """A sortable id: prefix, UTC time to the microsecond, a random suffix."""
    return f"{prefix}-{at:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


class Step(BaseModel):
    """One step of the deploy path as it ran: validate, gate, restore-point, cleanup, up, verify."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    status: Literal["ok", "failed", "skipped"]
    detail: str = ""


class Release(BaseModel):
    """One stack update: what was deployed, on which verdict, how it ended."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    stack: str
    kind: Literal["deploy", "rollback", "promote"]
    version: str = Field(description="the release version (git sha or tag): the image tag and TRADEOPS_GIT_SHA")
    git_sha: str
    config: dict[str, Any] = Field(description="the stack's tradeops:settings as deployed")
    image: str | None = Field(None, description="the image reference (name@sha256:...) once `up` built it")
    gate_verdict_id: str | None = None
    gate_passed: bool | None = None
    gate_reused: bool = Field(False, description="a rollback reused the verdict this version passed before")
    data: dict[str, Any] | None = Field(
        None, description="the data the gate verdict judged: ref, dataset, version, sha256, symbols, span, bars"
    )
    restore_point: str | None = Field(None, description="id of the database backup taken before `up`")
    changes: dict[str, int] = Field(default_factory=dict, description="resource operations of `up`, e.g. update: 3")
    steps: list[Step] = Field(default_factory=list, description="the deploy path's steps, in the order they ran")
    result: Result
    failed_step: str | None = None
    error: str | None = None
    rolled_back_to: str | None = Field(None, description="the version an automatic rollback went back to")
    bundle_id: str | None = Field(None, description="the content-hashed bundle this release runs (docs/deployment.md)")
    promoted_from: str | None = Field(None, description="the stage a promotion took the bundle from")
    approvals: list[Approval] = Field(default_factory=list, description="who approved the promoted bundle, when")
    override: str | None = Field(None, description="the reason given to promote outside the policy (audited)")
    rollback_reason: str | None = Field(None, description="the failed post-deploy check that rolled this back")
    started_at: datetime
    finished_at: datetime
    who: str

    @property
    def duration_seconds(self) -> float:
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class VerdictRecord(BaseModel):
    """A gate verdict a release rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    stack: str
    version: str
    passed: bool
    exit_code: int
    created_at: datetime
    verdict: dict[str, Any]


class ReleaseStore:
    """Save and read releases and verdicts; newest first."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def save(self, release: Release) -> str:
        key = f"releases/{release.stack}/{release.id}.json"
        self.objects.put(key, release.model_dump_json(indent=2).encode(), "application/json")
        return key

    def history(self, stack: str) -> list[Release]:
        """Every release of the stack, newest first."""
        keys = self.objects.keys(f"releases/{stack}/")
        found = [Release.model_validate_json(self.objects.get(key)) for key in keys if key.endswith(".json")]
        return sorted(found, key=lambda r: (r.started_at, r.id), reverse=True)

    def current(self, stack: str) -> Release | None:
        """The release running now: the newest one that succeeded."""
        return next((r for r in self.history(stack) if r.result == "succeeded"), None)

    def rollback_target(self, stack: str) -> Release:
        """What a rollback without a version deploys: the good release before the current one, or the current
        one again when the newest release failed at `up`/`verify` and left the stack between versions."""
        history = self.history(stack)  # one read of the history
        good = [r for r in history if r.result == "succeeded"]
        if not good:
            raise ConfigError(f"stack {stack!r} has no succeeded release: nothing to roll back from")
        current, newest = good[0], history[0]
        if newest.result == "failed" and newest.failed_step in ("up", "verify") and newest.version != current.version:
            return current
        previous = next((r for r in good if r.version != current.version), None)
        if previous is None:
            raise ConfigError(f"stack {stack!r} has no good release before {current.version} to roll back to")
        return previous

    def find(self, stack: str, version: str) -> Release:
        """The newest succeeded release of `version`; a ConfigError lists the versions one can name."""
        history = self.history(stack)
        match = next((r for r in history if r.version == version and r.result == "succeeded"), None)
        if match is None:
            good = sorted({r.version for r in history if r.result == "succeeded"})
            raise ConfigError(
                f"stack {stack!r} has no succeeded release {version!r} (succeeded: {', '.join(good) or 'none'})"
            )
        return match

    def save_verdict(self, stack: str, version: str, verdict: dict[str, Any]) -> VerdictRecord:
        at = datetime.now(UTC)
        record = VerdictRecord(
            id=new_id("verdict", at),
            stack=stack,
            version=version,
            passed=bool(verdict.get("passed")),
            exit_code=int(verdict.get("exit_code", 2)),
            created_at=at,
            verdict=json.loads(json.dumps(verdict, default=str)),
        )
        key = f"verdicts/{stack}/{record.id}.json"
        self.objects.put(key, record.model_dump_json(indent=2).encode(), "application/json")
        return record

    def latest_verdict(self, stack: str) -> VerdictRecord | None:
        """The newest gate verdict recorded for the stack (ids sort by time)."""
        keys = sorted(k for k in self.objects.keys(f"verdicts/{stack}/") if k.endswith(".json"))
        return VerdictRecord.model_validate_json(self.objects.get(keys[-1])) if keys else None

    def verdict(self, stack: str, verdict_id: str) -> VerdictRecord:
        try:
            return VerdictRecord.model_validate_json(self.objects.get(f"verdicts/{stack}/{verdict_id}.json"))
        except KeyError:
            raise ConfigError(f"stack {stack!r} has no gate verdict {verdict_id!r}") from None
