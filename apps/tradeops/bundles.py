"""Bundles: the immutable, content-hashed unit a promotion moves from stage to stage.

A bundle is everything that decides what trades: the image digest, the git commit, the candidate
(strategy, parameters, execution, thresholds), the risk limits, the data the gate judged, and the id
of that verdict. Its id is the SHA-256 of its canonical JSON, so the same content always has the same
id and any change to any part gives another. Once stored, the id is the hash of the stored bytes: every
read checks it, and nothing recomputes it from today's models, so a bundle an earlier schema wrote (before
a model gained a field) keeps its id. Its content never changes; what happens to it does (verified,
revoked, approved) and is recorded as events beside it, under `bundles/<id>/`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
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

    def document(self) -> dict[str, Any]:
        """The content as stored (no lock hash when there is none: as before it existed, so old ids still hold)."""
        return self.model_dump(mode="json", exclude={"lock_sha256"} if self.lock_sha256 is None else None)

    def canonical(self) -> bytes:
        """Sorted-key JSON with no whitespace: the bytes that are hashed."""
        return canonical_bytes(self.document())

    @property
    def id(self) -> str:
        return bundle_id(self)


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """A content document as sorted-key JSON with no whitespace (a stored document gives back its own bytes)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def hash_id(canonical: bytes) -> str:
    """`bundle-` and the first 24 hex digits of the SHA-256 of canonical bytes."""
    return BUNDLE_PREFIX + hashlib.sha256(canonical).hexdigest()[:ID_LENGTH]


def bundle_id(content: BundleContent) -> str:
    """The id new content gets: the hash of its canonical bytes, which is what `BundleStore.save` stores."""
    return hash_id(content.canonical())


def dataset_of(verdict: dict[str, Any], candidate: dict[str, Any]) -> DatasetRef:
    """The data a gate verdict records (its result's data name and fingerprint), else the candidate's reference."""
    data = (verdict.get("result") or {}).get("data") or {}
    return DatasetRef(
        ref=str(candidate.get("data", data.get("name", "?"))),
        fingerprint=data.get("fingerprint"),
        version=data.get("version"),
    )


Source = Literal["slack", "pull-request", "cli"]


@dataclass(frozen=True)
class Approver:
    """An identity something verified, never a name someone typed: made by `slack`, by reading a review back
    from GitHub (`pipelines.deploy.approvals`), or from a token that names its principal."""

    who: str
    source: Source
    evidence: str

    @classmethod
    def slack(cls, user_id: str) -> Approver:
        """The Slack user of a request whose signature the bot checked (`tradeops.slackbot.verify`)."""
        return cls(f"slack:{user_id}", "slack", f"Slack request signed with the app's signing secret by {user_id}")


class Approval(_Frozen):
    """Someone approved promoting a bundle to a stage."""

    bundle_id: str
    stage: str = Field(description="the stage the approval lets the bundle into, e.g. prod")
    who: str = Field(description="slack:U..., github:LOGIN or token:PRINCIPAL: the verified identity")
    source: Source
    at: datetime
    note: str = ""
    evidence: str = Field(
        "",
        description="how the identity was verified: the review's URL, the signed Slack request, the token's "
        "principal; empty (recorded before identities were verified): the approval does not count",
    )


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
        """One approval per verified person for the stage, the first each gave (unverified names never count)."""
        seen: dict[str, Approval] = {}
        for approval in self.approvals:
            if approval.stage == stage and approval.evidence:
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
            document = {"content": content.document(), "created_at": datetime.now(UTC).isoformat()}
            self.objects.put(key, json.dumps(document, indent=2).encode(), "application/json")
        if verification is not None:
            self.record(verification)
        return self.get(identity)

    def record(self, event: Verification | Approval) -> None:
        """Append a verification or an approval to the bundle's events (in the order they are recorded)."""
        kind = "verification" if isinstance(event, Verification) else "approval"
        key = f"bundles/{event.bundle_id}/events/{_stamp(datetime.now(UTC))}-{secrets.token_hex(3)}-{kind}.json"
        self.objects.put(key, json.dumps({"kind": kind, "event": event.model_dump(mode="json")}).encode())

    def approve(self, bundle: str, stage: str, approver: Approver) -> Approval:
        """Record an approval of a known bundle by a verified identity, with its evidence."""
        self.get(bundle)  # refuses an unknown id
        approval = Approval(
            bundle_id=bundle,
            stage=stage,
            who=approver.who,
            source=approver.source,
            evidence=approver.evidence,
            at=datetime.now(UTC),
        )
        self.record(approval)
        return approval

    def get(self, bundle: str) -> BundleState:
        """The bundle with its events; a ConfigError for an unknown id, or for stored bytes that do not hash to it."""
        keys = self.objects.keys(f"bundles/{bundle}/")
        if f"bundles/{bundle}/content.json" not in keys:
            raise ConfigError(f"no bundle {bundle!r} (ids look like {BUNDLE_PREFIX}<24 hex digits>)")
        document = json.loads(self.objects.get(f"bundles/{bundle}/content.json"))
        stored = hash_id(canonical_bytes(document["content"]))  # the bytes as stored, never re-dumped by a model
        if stored != bundle:
            raise ConfigError(
                f"bundle {bundle} is not what was stored: its content hashes to {stored} (changed in the object store?)"
            )
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
