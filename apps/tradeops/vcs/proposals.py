"""Proposals: new parameters for a stack, validated and gated, optionally as a pull request.

Slack's `/trading propose` and the MCP server's `propose_parameters` both come here. Nothing in a
running system changes: a change is a branch and a pull request editing
`infra/stacks/Pulumi.<stack>.yaml`, which the normal PR flow (CI gate, review, deploy) carries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradeops.audit import AuditLog
from tradeops.errors import ConfigError
from tradeops.gate import Provenance, Verdict, run_gate, validate_candidate
from tradeops.gate.candidate import HAND_WRITTEN
from tradeops.settings import AppSettings
from tradeops.store.objects import ObjectStore
from tradeops.strategies import get_strategy
from tradeops.strategies.base import validate_params
from tradeops.vcs.git import Clone
from tradeops.vcs.github import GitHubClient, GitHubError, PullRequest, PullRequests, RepositoryPulls
from tradeops.vcs.stackfile import stack_file
from tradeops.vcs.stacks import AUTHOR, StackRepository


@dataclass(frozen=True)
class Proposal:
    """What a proposal found and did."""

    stack: str
    strategy: str
    before: dict[str, Any]
    after: dict[str, Any]
    verdict: Verdict
    provenance: Provenance = HAND_WRITTEN
    branch: str | None = None
    commit: str | None = None
    pull_request: PullRequest | None = None


class Proposer:
    """Validate against the strategy's schema, run the gate, and on request commit, push and open a PR."""

    def __init__(
        self,
        repository: StackRepository,
        pulls: PullRequests | None,
        *,
        via: str = "Slack",
        author: tuple[str, str] = AUTHOR,
        objects: ObjectStore | None = None,
    ) -> None:
        self.repository, self.pulls = repository, pulls
        self.objects = objects  # where `dataset:` candidates are read (None: the store the settings name)
        self.via, self.author = via, author  # the channel and the committer named in git and in the PR

    def propose(
        self,
        stack: str,
        overrides: dict[str, Any],
        *,
        open_pr: bool,
        actor: str,
        provenance: Provenance = HAND_WRITTEN,
    ) -> Proposal:
        """Raise ConfigError for bad parameters (nothing is committed); else gate, and branch + PR when asked.

        `provenance` is how the parameters were found (a sweep's or study's record); by default a person
        wrote them: one trial. It is gated with the candidate and committed with it.
        """
        read = self.repository.read(stack)
        raw = dict(read.settings.get("candidate") or {})
        strategy = get_strategy(str(raw.get("strategy")))
        before = dict(raw.get("params") or {})
        point = validate_params(strategy, {**before, **overrides})  # the strategy's schema names each bad field
        typed = {name: getattr(point, name) for name in overrides}  # `fast=12` is committed as the int 12
        found = provenance.model_dump(mode="json", exclude_none=True)
        candidate = validate_candidate(
            {**raw, "params": {**before, **typed}, "provenance": found}, f"{stack_file(stack)} candidate"
        )
        if open_pr and all(before.get(name) == value for name, value in typed.items()):
            raise ConfigError(f"nothing to propose: {stack} already has {format_params(typed)}")
        verdict, _ = run_gate(candidate, objects=self.objects)
        proposal = Proposal(stack, strategy.name, before, {**before, **typed}, verdict, provenance)
        if not open_pr:
            return proposal
        if self.pulls is None:
            raise ConfigError("pull requests need TRADEOPS_GITHUB_REPO (and a token); the gate ran, nothing committed")
        branch = f"{self.via.lower()}/{stack}-{strategy.name}-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
        commit = self.repository.commit_params(
            read,
            typed,
            branch=branch,
            message=commit_message(proposal, actor, self.via),
            author=self.author,
            provenance=None if provenance == HAND_WRITTEN else found,
        )
        try:
            pull = self.pulls.open_pull_request(
                title=title(proposal),
                head=branch,
                base=self.repository.base,
                body=pull_request_body(proposal, actor, self.via),
            )
        except GitHubError as error:
            raise GitHubError(f"{error}; branch `{branch}` is pushed, open its pull request by hand") from None
        return Proposal(stack, strategy.name, before, proposal.after, verdict, provenance, branch, commit, pull)


def open_repository(settings: AppSettings) -> tuple[StackRepository | None, RepositoryPulls | None]:
    """The stack repository (TRADEOPS_GIT_REMOTE) and the pull requests API (TRADEOPS_GITHUB_REPO), when set."""
    token = settings.github_token.get_secret_value() if settings.github_token else None
    repository = None
    if settings.git_remote:
        clone = Clone(settings.resolved_repo_dir, settings.git_remote, token=token)
        repository = StackRepository(clone, settings.git_base_branch)
    pulls = (
        RepositoryPulls(GitHubClient(token, base_url=settings.github_api_url), settings.github_repo)
        if settings.github_repo
        else None
    )
    return repository, pulls


def propose_audited(
    proposer: Proposer | None,
    audit: AuditLog,
    *,
    action: str,
    actor: str,
    stack: str,
    overrides: dict[str, Any],
    open_pr: bool,
    detail: dict[str, Any] | None = None,
    provenance: Provenance = HAND_WRITTEN,
) -> Proposal:
    """Propose and audit the outcome as `action` (`invalid`, `failed`, `gated` or `pr-opened`); errors re-raised."""
    base = {"params": overrides, "pr": open_pr} | (detail or {})

    def note(outcome: str, extra: dict[str, Any]) -> None:
        audit.record(actor=actor, action=action, target=stack, outcome=outcome, detail=base | extra)

    try:
        if proposer is None:
            raise ConfigError("no repository configured: set TRADEOPS_GIT_REMOTE (a git URL or a local path)")
        proposal = proposer.propose(stack, overrides, open_pr=open_pr, actor=actor, provenance=provenance)
    except Exception as error:  # audited either way: bad input is `invalid`, anything else `failed`
        bad_input = isinstance(error, ConfigError)
        reason = str(error) if bad_input else f"{type(error).__name__}: {error}"
        note("invalid" if bad_input and proposer is not None else "failed", {"error": reason})
        raise
    pull = proposal.pull_request
    note(
        "pr-opened" if pull else "gated",
        {
            "passed": proposal.verdict.passed,
            "branch": proposal.branch,
            "commit": proposal.commit,
            "pull_request": pull.url if pull else None,
        },
    )
    return proposal


def format_params(params: dict[str, Any]) -> str:
    return " ".join(f"{name}={value}" for name, value in params.items())


def changes(proposal: Proposal) -> str:
    return (
        ", ".join(
            f"{k}: {proposal.before.get(k, 'default')} -> {v}"
            for k, v in proposal.after.items()
            if proposal.before.get(k) != v
        )
        or "no change"
    )


def title(proposal: Proposal) -> str:
    word = "gate passed" if proposal.verdict.passed else "gate FAILED"
    return f"{proposal.stack}: {proposal.strategy} {changes(proposal)} ({word})"


def commit_message(proposal: Proposal, actor: str, via: str) -> str:
    return f"{proposal.stack}: {proposal.strategy} {changes(proposal)}\n\nProposed from {via} by {actor}."


def found_by(provenance: Provenance) -> str:
    """How the proposed parameters were found, in one line."""
    if provenance == HAND_WRITTEN:
        return "written by hand (`trials: 1`): no selection for the gate to deflate"
    variance = "not recorded" if provenance.sharpe_variance is None else f"{provenance.sharpe_variance:.4g}"
    run = f", run `{provenance.run}`" if provenance.run else ""
    return f"best of {provenance.trials} trials ({provenance.method}{run}); variance of their Sharpe ratios {variance}"


def pull_request_body(proposal: Proposal, actor: str, via: str) -> str:
    """Markdown: the change, who asked, and the verdict as a table of checks."""
    verdict = proposal.verdict.to_dict()
    state = {0: "PASSED", 1: "FAILED", 2: "UNDECIDED"}[verdict["exit_code"]]
    lines = [
        f"Parameter change for stack `{proposal.stack}` proposed from {via} by `{actor}`.",
        "",
        f"- strategy: `{proposal.strategy}`",
        f"- change: {changes(proposal)}",
        f"- file: `{stack_file(proposal.stack)}` (`tradeops:settings.candidate.params`)",
        f"- found: {found_by(proposal.provenance)}",
        "",
        f"## Gate verdict: {state} (exit {verdict['exit_code']})",
        "",
    ]
    if verdict["error"]:
        lines.append(f"Could not decide: {verdict['error']}")
    else:
        lines += ["| check | value | limit | passed | detail |", "|---|---|---|---|---|"]
        lines += [
            f"| {c['name']} | {c['value']} | {c['limit']} | {'yes' if c['passed'] else 'no'} | {c['detail']} |"
            for c in verdict["checks"]
        ]
    lines += ["", "The pipeline runs the gate again on this branch; merging deploys through the normal flow."]
    return "\n".join(lines)
