"""`validate`: each stack's config against its schema, the policy pack on what the program declares, a secrets scan."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipelines.git import git
from pipelines.infra.evaluate import ROOT, Evaluation, evaluate, stack_config

SECRET_PATTERNS = {
    "Slack token": re.compile(r"xox[abprs]-\d{6,}-\d{6,}-[0-9A-Za-z]{10,}"),
    "GitHub token": re.compile(r"\b(ghp|gho|ghs|ghu|github_pat)_[0-9A-Za-z_]{20,}"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    "Stripe live key": re.compile(r"\bsk_live_[0-9A-Za-z]{10,}"),
}


def config_problems(stack: str) -> list[str]:
    from infra.config import StackConfigError, parse_stack_config

    values = stack_config(stack)
    try:
        parse_stack_config(values.get("tradeops:settings"), str(values.get("tradeops:version", "dev")))
    except StackConfigError as error:
        return [f"{stack}: {error}"]
    return []


def policy_problems(evaluation: Evaluation) -> list[str]:
    """Every CrossGuard policy of infra/policy on the declared resources, as `pulumi preview` would run them."""
    from infra.policy.policies import RESOURCE_CHECKS, STACK_CHECKS
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
        StackValidationArgs,
    )

    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    found: list[str] = []
    resources: dict[str, Any] = {}
    for recorded in evaluation.resources:
        props = (
            recorded.inputs if recorded.type.endswith(":Job") else recorded.outputs
        )  # a Job's name is the provider's
        args = ResourceValidationArgs(recorded.type, props, f"urn:{recorded.name}", recorded.name, options, None)
        for check in RESOURCE_CHECKS:
            check(args, lambda message, urn=None, name=recorded.name: found.append(f"{name}: {message}"))
        resources[recorded.name] = PolicyResource(
            recorded.type, recorded.outputs, f"urn:{recorded.name}", recorded.name, options, None, None, [], {}
        )
    trader, gate = resources.get("trader-deployment"), resources.get("gate-job")
    if trader is not None and gate is not None and evaluation.components.trader.waits_for:
        trader.dependencies = [gate]
    for stack_check in STACK_CHECKS:
        stack_check(StackValidationArgs(list(resources.values())), lambda message, urn=None: found.append(message))
    return [f"{evaluation.stack}: policy: {message}" for message in found]


def secret_findings(root: Path = ROOT) -> list[str]:
    """Tracked text files (of the git checkout at `root`) that hold something shaped like a credential."""
    files = git("ls-files", cwd=root).split()
    found = []
    for name in files:
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary, or deleted in the working tree
        for what, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: looks like a {what}")
    return found


def validate(stacks: list[str]) -> list[str]:
    """Every problem found; empty when the change may go on."""
    problems = []
    for stack in stacks:
        config = config_problems(stack)
        problems += config or policy_problems(evaluate(stack))
    return problems + secret_findings()
