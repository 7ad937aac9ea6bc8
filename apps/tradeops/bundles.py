"""Bundles: the immutable, content-hashed unit a promotion moves from stage to stage.

A bundle is everything that decides what trades: the image digest, the git commit, the candidate
(strategy, parameters, execution, thresholds), the risk limits, the data the gate judged, and the id
of that verdict. Its id is the SHA-256 of its canonical JSON, so the same content always has the same
id and any change to any part gives another. Its content never changes; what happens to it does
(verified, revoked, approved) and is recorded as events beside it, under `bundles/<id>/`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeops.errors import ConfigError
from tradeops.store.objects import ObjectStore

BUNDLE_PREFIX = "bundle-"
ID_LENGTH = 24  # hex digits of the SHA-256 kept in the id: 96 bits, no collision among a desk's releases


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetRef(_Frozen):
    """The data the gate judged: the reference it was given and the fingerprint of the bars it read.

    `version` is the immutable dataset version once market data is stored as versioned datasets
    (`dataset:NAME@VERSION`); until then it stays None and the fingerprint identifies the bars."""

    ref: str = Field(description="what --data named, e.g. sample:GOOG or dataset:btc-usd-1h")
    fingerprint: str | None = Field(None, description="SHA-256 of the bars the gate read")
    version: str | None = Field(None, description="the dataset version, when the data is a versioned dataset")


class BundleContent(_Frozen):
    """What a bundle is made of; its hash is the bundle id."""

    image: str = Field(description="image reference by digest (name@sha256:...)")
    git_sha: str = Field(description="the commit the image and the program were built from")
    candidate: dict[str, Any] = Field(description="strategy, params, data, execution and thresholds, as validated")
    risk: dict[str, Any] = Field(description="the trading session's risk limits")
    dataset: DatasetRef
    verdict_id: str = Field(description="the gate verdict the bundle was judged by when it was made")
    lock_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of requirements/image.lock, the releases in the image"
    )

    def canonical(self) -> bytes:
        """Sorted-key JSON with no whitespace: the bytes that are hashed (no lock hash: as before it existed)."""
        content = self.model_dump(mode="json", exclude={"lock_sha256"} if self.lock_sha256 is None else None)
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    @property
    def id(self) -> str:
        return bundle_id(self)


def bundle_id(content: BundleContent) -> str:
    """`bundle-` and the first 24 hex digits of the SHA-256 of the canonical content."""
    return BUNDLE_PREFIX + hashlib.sha256(content.canonical()).hexdigest()[:ID_LENGTH]


def dataset_of(verdict: dict[str, Any], candidate: dict[str, Any]) -> DatasetRef:
    """The data a gate verdict records (its result's data name and fingerprint), else the candidate's reference."""
    data = (verdict.get("result") or {}).get("data") or {}
    return DatasetRef(
        ref=str(candidate.get("data", data.get("name", "?"))),
        fingerprint=data.get("fingerprint"),
        version=data.get("version"),
    )


class Approval(_Frozen):
    """Someone approved promoting a bundle to a stage."""

    bundle_id: str
    stage: str = Field(description="the stage the approval lets the bundle into, e.g. prod")
    who: str = Field(description="slack:U... or github:LOGIN")
    source: Literal["slack", "pull-request", "cli"]
    at: datetime
    note: str = ""


class Verification(_Frozen):
    """A gate verdict on the bundle's candidate: the one it was made with, or a later re-verification."""

    bundle_id: str
    stack: str = Field(description="the stack whose verdict store holds the verdict")
    verdict_id: str
    passed: bool
    reason: str = ""
    dataset: DatasetRef | None = None
    at: datetime


class BundleState(_Frozen):
    """A bundle and what happened to it, newest events last."""

    id: str
    content: BundleContent
    created_at: datetime
    verifications: list[Verification]
    approvals: list[Approval]

    @property
    def verified(self) -> bool:
        """Verified while its newest verdict passed; a failed re-verification revokes until one passes again."""
        return bool(self.verifications) and self.verifications[-1].passed

    @property
    def revoked(self) -> bool:
        return bool(self.verifications) and not self.verifications[-1].passed

    @property
    def last_passed(self) -> Verification | None:
        return next((v for v in reversed(self.verifications) if v.passed), None)

    def approvals_for(self, stage: str) -> list[Approval]:
        """One approval per person for the stage, the first each gave."""
        seen: dict[str, Approval] = {}
        for approval in self.approvals:
            if approval.stage == stage:
                seen.setdefault(approval.who, approval)
        return list(seen.values())


def _stamp(at: datetime) -> str:
    return f"{at:%Y%m%dT%H%M%S%f}Z"


class BundleStore:
    """Bundles and their events in the object store, beside the releases."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def save(self, content: BundleContent, verification: Verification | None = None) -> BundleState:
        """Store the content once (the same content is the same bundle) and, if given, its verification."""
        identity = content.id
        key = f"bundles/{identity}/content.json"
        if key not in self.objects.keys(f"bundles/{identity}/"):
            document = {"content": content.model_dump(mode="json"), "created_at": datetime.now(UTC).isoformat()}
            self.objects.put(key, json.dumps(document, indent=2).encode(), "application/json")
        if verification is not None:
            self.record(verification)
        return self.get(identity)

    def record(self, event: Verification | Approval) -> None:
        """Append a verification or an approval to the bundle's events (in the order they are recorded)."""
        kind = "verification" if isinstance(event, Verification) else "approval"
        key = f"bundles/{event.bundle_id}/events/{_stamp(datetime.now(UTC))}-{secrets.token_hex(3)}-{kind}.json"
        self.objects.put(key, json.dumps({"kind": kind, "event": event.model_dump(mode="json")}).encode())

    def approve(self, bundle: str, stage: str, who: str, source: Literal["slack", "pull-request", "cli"]) -> Approval:
        """Record an approval of a known bundle."""
        self.get(bundle)  # refuses an unknown id
        approval = Approval(bundle_id=bundle, stage=stage, who=who, source=source, at=datetime.now(UTC))
        self.record(approval)
        return approval

    def get(self, bundle: str) -> BundleState:
        """The bundle with its events; a ConfigError for an unknown id."""
        keys = self.objects.keys(f"bundles/{bundle}/")
        if f"bundles/{bundle}/content.json" not in keys:
            raise ConfigError(f"no bundle {bundle!r} (ids look like {BUNDLE_PREFIX}<24 hex digits>)")
        document = json.loads(self.objects.get(f"bundles/{bundle}/content.json"))
        verifications, approvals = [], []
        for key in sorted(k for k in keys if "/events/" in k):
            event = json.loads(self.objects.get(key))
            if event["kind"] == "verification":
                verifications.append(Verification.model_validate(event["event"]))
            else:
                approvals.append(Approval.model_validate(event["event"]))
        return BundleState(
            id=bundle,
            content=BundleContent.model_validate(document["content"]),
            created_at=datetime.fromisoformat(document["created_at"]),
            verifications=verifications,
            approvals=approvals,
        )

    def find(self, bundle: str) -> BundleState | None:
        try:
            return self.get(bundle)
        except ConfigError:
            return None
