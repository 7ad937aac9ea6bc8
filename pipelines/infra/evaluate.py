"""Run the Pulumi program under Pulumi's own mocks and record every resource it declares.

No `pulumi` CLI, cloud or cluster is involved: the program runs as in `pulumi preview`, and the
mocks answer each registration with its inputs (plus the few outputs a real provider computes:
auto-generated names and the image digest, derived deterministically so renders are stable).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "infra" / "stacks"
SECRET_PLACEHOLDER = "set-with-pulumi-config-set-secret"  # noqa: S105 - a stand-in, never a real secret


@dataclass(frozen=True)
class Recorded:
    """One resource as the program declared it."""

    type: str
    name: str
    inputs: dict[str, Any]  # as the program declared them
    outputs: dict[str, Any]  # inputs plus what a provider computes (auto-names, image digest)
    urn: str = ""
    parent: str = ""  # the parent's URN; a child is registered only once its parent is
    dependencies: tuple[str, ...] = ()  # URNs registered (created) before this one: depends_on and inputs
    read: str | None = None  # the id of a live object the program reads (`Resource.get`); None: declared
    retain_on_delete: bool = False  # a delete (or destroy) only forgets it: it stays in the cluster


@dataclass
class Evaluation:
    """What one stack declares."""

    stack: str
    version: str
    resources: list[Recorded] = field(default_factory=list)
    components: Any = None  # infra.stack.Stack


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


class RecordingMocks(pulumi.runtime.Mocks):
    """Record registrations; fill in what a provider would compute."""

    def __init__(self) -> None:
        self.resources: list[Recorded] = []
        self.registering = threading.local()  # what RecordingMonitor is registering on this thread

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = json.loads(json.dumps(args.inputs, default=str))
        outputs = json.loads(json.dumps(inputs))
        if args.typ.startswith("kubernetes:") and isinstance(outputs.get("metadata"), dict):
            outputs["metadata"].setdefault("name", f"{args.name}-{_short_hash(args.typ, args.name)}")
        if args.typ == "docker:index/image:Image":
            image = outputs["imageName"]
            digest = hashlib.sha256(image.encode()).hexdigest()
            outputs["repoDigest"] = f"{image.rsplit(':', 1)[0]}@sha256:{digest}"
        self.resources.append(Recorded(args.typ, args.name, inputs, outputs, **self.registering.current))
        return args.resource_id or f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Pulumi's mock monitor, telling the mocks each resource's URN, parent and dependencies."""

    mocks: RecordingMocks

    def _register(self, request: Any, read: str | None) -> None:
        self.mocks.registering.current = {  # the fields of Recorded the mocks are not told
            "urn": self.make_urn(request.parent, request.type, request.name),
            "parent": request.parent,
            "dependencies": tuple(sorted(request.dependencies)),
            "read": read,
            "retain_on_delete": read is None and request.retainOnDelete,
        }

    def RegisterResource(self, request: Any) -> Any:
        self._register(request, None)
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:
        self._register(request, request.id)
        return super().ReadResource(request)


def stack_names() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACKS.glob("Pulumi.*.yaml"))


def stack_config(stack: str, path: Path | None = None) -> dict[str, Any]:
    """Return the `config:` mapping of a stack file."""
    source = path or STACKS / f"Pulumi.{stack}.yaml"
    if not source.exists():
        raise FileNotFoundError(f"no stack {stack!r}: {source} does not exist (stacks: {', '.join(stack_names())})")
    return dict(yaml.safe_load(source.read_text()).get("config", {}))


def _ensure_event_loop() -> None:
    """Give this thread an event loop: Pulumi's runtime makes asyncio futures at import of the program, and
    an earlier `asyncio.run` in the same process (a test, an MCP client) leaves the main thread with none."""
    policy = asyncio.get_event_loop_policy()
    try:
        policy.get_event_loop()
    except RuntimeError:
        policy.set_event_loop(policy.new_event_loop())


def evaluate(stack: str, *, config: dict[str, Any] | None = None) -> Evaluation:
    """Run the program for `stack` (or for an explicit `config` mapping) and return what it declared."""
    from infra.config import SECRET_KEYS

    values = config if config is not None else stack_config(stack)
    flat = {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}
    secrets = [f"tradeops:{key}" for key in SECRET_KEYS]
    for key in secrets:
        flat.setdefault(key, SECRET_PLACEHOLDER)
    mocks = RecordingMocks()
    _ensure_event_loop()
    pulumi.runtime.set_mocks(mocks, project="tradeops", stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(flat, secret_keys=secrets)
    evaluation = Evaluation(stack=stack, version=str(values.get("tradeops:version", "dev")))

    @pulumi.runtime.test
    def run() -> None:
        from infra.stack import declare_from_pulumi_config

        evaluation.components = declare_from_pulumi_config()

    run()
    evaluation.resources = mocks.resources
    return evaluation
