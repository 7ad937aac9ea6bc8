"""`tradeops promote`, `tradeops releases [show ID]`, `tradeops bundles approve|reverify|check`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from pipelines.deploy.cli import (
    Stack,
    Targets,
    VerifyTimeout,
    build_tools,
    default_services,
    finish,
    releases_command,
    stderr,
)
from tradeops.errors import ConfigError
from tradeops.settings import AppSettings, load_settings
from tradeops.store import open_object_store

if TYPE_CHECKING:
    from infra.config import Promotion

    from pipelines.deploy.deployer import Tools
    from pipelines.deploy.promote import SoakSource
    from tradeops.bundles import BundleState

releases_app = typer.Typer(help="Release history and bundles.", invoke_without_command=True)
bundles_app = typer.Typer(help="Content-hashed bundles: approve, re-verify, check after deploy.", no_args_is_help=True)
EXIT_REFUSED, EXIT_UNDECIDED = 1, 2
out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)


@releases_app.callback()
def releases(
    ctx: typer.Context,
    stack: Annotated[str | None, typer.Option("--stack", help="stack name (infra/stacks/Pulumi.<stack>.yaml)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (newest first)")] = False,
) -> None:
    """The stack's release history (`--stack NAME`), or `show ID` for one release or bundle."""
    if ctx.invoked_subcommand is not None:
        return
    if stack is None:
        raise ConfigError("releases needs --stack NAME (or `tradeops releases show ID`)")
    releases_command(stack, as_json)


def _objects(settings: AppSettings) -> Any:
    return open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)


def _bundle_text(state: BundleState, runs: list[str]) -> list[str]:
    content = state.content
    candidate = content.candidate
    lines = [
        f"bundle {state.id}  ({'verified' if state.verified else 'REVOKED' if state.revoked else 'unverified'})",
        f"  created     {state.created_at:%Y-%m-%d %H:%M:%S} UTC",
        f"  image       {content.image}",
        f"  git commit  {content.git_sha}",
        f"  strategy    {candidate.get('strategy')} {json.dumps(candidate.get('params', {}), sort_keys=True)}",
        f"  execution   {json.dumps(candidate.get('execution', {}), sort_keys=True)}",
        f"  thresholds  {json.dumps(candidate.get('thresholds', {}), sort_keys=True)}",
        f"  risk        {json.dumps(content.risk, sort_keys=True)}",
        f"  data        {content.dataset.ref} fingerprint {content.dataset.fingerprint or '-'}"
        + (f" version {content.dataset.version}" if content.dataset.version else ""),
        f"  verdict     {content.verdict_id}",
        "  verifications:",
        *[
            f"    {v.at:%Y-%m-%d %H:%M} {'passed' if v.passed else 'FAILED'} {v.stack} {v.verdict_id}"
            + (f" on {v.dataset.ref}" if v.dataset else "")
            + (f": {v.reason}" if v.reason else "")
            for v in state.verifications
        ],
        "  approvals:",
        *[f"    {a.at:%Y-%m-%d %H:%M} {a.who} via {a.source} for {a.stage}" for a in state.approvals],
        "  releases:",
        *[f"    {run}" for run in runs],
    ]
    return lines


@releases_app.command("show")
def show(
    identity: Annotated[str, typer.Argument(metavar="ID", help="a bundle id (bundle-...) or a release id")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print a bundle (its content, verifications, approvals, where it ran) or one release."""
    from tradeops.bundles import BundleStore
    from tradeops.releases import Release

    objects = _objects(load_settings())
    found = [key for key in objects.keys("releases/") if key.endswith(".json")]
    if identity.startswith("bundle-"):
        state = BundleStore(objects).get(identity)
        runs = [Release.model_validate_json(objects.get(key)) for key in found]
        ran = sorted((r for r in runs if r.bundle_id == identity), key=lambda r: r.started_at)
        if as_json:
            typer.echo(json.dumps(state.model_dump(mode="json") | {"releases": [r.id for r in ran]}))
            return
        text = [
            f"{r.stack:<8} {r.kind:<8} {r.version:<12} {r.result:<11} {r.finished_at:%Y-%m-%d %H:%M} by {r.who}"
            for r in ran
        ]
        out.print("\n".join(_bundle_text(state, text)))
        return
    key = next((k for k in found if k.endswith(f"/{identity}.json")), None)
    if key is None:
        raise ConfigError(f"no release or bundle {identity!r} (see tradeops releases --stack NAME)")
    release = Release.model_validate_json(objects.get(key))
    typer.echo(release.model_dump_json(indent=None if as_json else 2))


def _policy(stack: str) -> tuple[dict[str, Any], Promotion]:
    from infra.config import parse_stack_config

    from pipelines.infra.evaluate import stack_config

    settings = stack_config(stack)["tradeops:settings"]
    config = parse_stack_config(settings, stack)
    if config.promotion is None:
        raise ConfigError(f"stack {stack!r} has no promotion policy (tradeops:settings.promotion)")
    return settings, config.promotion


def _soak_source(source: str, ledger_url: str) -> SoakSource:
    """Read the source stage's paper session (named as the program names it) from its ledger."""
    from infra.components.backtest_gate import candidate_hash

    from pipelines.infra.evaluate import stack_config
    from tradeops.gate.candidate import Candidate
    from tradeops.trader.soak import measure_soak, open_ledger

    namespace = stack_config(source)["tradeops:settings"]["namespace"]

    def measure(bundle: BundleState, since: datetime) -> Any:
        candidate = Candidate.model_validate(bundle.content.candidate)
        engine = open_ledger(ledger_url)  # unreachable: the soak is undecided, the promotion waits
        try:
            return measure_soak(engine, f"{namespace}-{candidate_hash(candidate)[:12]}", candidate, since)
        finally:
            engine.dispose()

    return measure


def _tools(settings: AppSettings, stack: str, target: list[str] | None, verify_timeout: float) -> Tools:
    from pipelines.infra.evaluate import stack_config
    from tradeops.cli.options import parse_assignments

    known = stack_config(stack)["tradeops:settings"]
    services = parse_assignments(target, "--target") or default_services(known)
    return build_tools(
        settings,
        services,
        str(known["namespace"]),
        verify_timeout=verify_timeout,
        restore_point=True,
        kubernetes_host=None,
    )


def promote_command(
    source: Annotated[str, typer.Option("--from", help="the stage the bundle runs in")],
    to: Annotated[str, typer.Option("--to", help="the stage to promote it into (its stack has a promotion policy)")],
    bundle: Annotated[
        str | None, typer.Option("--bundle", help="the bundle id, which must be the one running in --from")
    ] = None,
    override: Annotated[
        str | None,
        typer.Option("--override", help="REASON to promote inside a freeze or outside the windows (audited)"),
    ] = None,
    target: Targets = None,
    verify_timeout: VerifyTimeout = 300,
    as_json: Annotated[bool, typer.Option("--json", help="print the promotion verdict as JSON")] = False,
) -> None:
    """Deploy to --to exactly the bundle running in --from, once gated, soaked, approved and in a window.

    Exit 0 promoted (or the deploy's own result), 1 refused (Failed), 2 undecided (Inconclusive) or bad input."""
    from pipelines.deploy.promote import Request, promote

    settings = load_settings()
    target_settings, policy = _policy(to)
    tools = _tools(settings, to, target, verify_timeout)
    request = Request(source, to, target_settings, policy, bundle_id=bundle, override=override)
    verdict, release = promote(
        request,
        tools,
        _soak_source(source, settings.promotion_ledger_url or settings.resolved_database_url),
        datetime.now(UTC),
    )
    if as_json:
        typer.echo(json.dumps(verdict.to_dict() | {"release": release.id if release else None}))
    for condition in verdict.conditions:
        stderr.print(f"  {condition.name:<11} {condition.status:<12} {condition.detail}", highlight=False, markup=False)
    if release is None:
        tools.notifier.close()
        stderr.print(f"promotion of {verdict.bundle_id} to {to}: {verdict.status.upper()}", highlight=False)
        raise typer.Exit(EXIT_REFUSED if verdict.status == "failed" else EXIT_UNDECIDED)
    finish(release, tools)


@bundles_app.command("approve")
def approve(
    identity: Annotated[str, typer.Argument(metavar="BUNDLE", help="bundle id")],
    stage: Annotated[str, typer.Option("--stage", help="the stage the approval lets it into")] = "prod",
    pr: Annotated[
        int | None,
        typer.Option("--pr", help="record every approving review of the pull request that brought the bundle's commit"),
    ] = None,
    repo: Annotated[str, typer.Option("--repo", help="owner/name [default: $GITHUB_REPOSITORY]")] = "",
) -> None:
    """Approve a bundle for a stage as the principal your token names ($TRADEOPS_APPROVER_TOKEN), or record a pull
    request's approving reviews (--pr N); a name given on the command line never approves."""
    import os

    from pipelines.deploy.approvals import APPROVER_TOKEN, pull_request_approvers, token_approver
    from tradeops.bundles import BundleStore

    settings = load_settings()
    bundles = BundleStore(_objects(settings))
    if pr is not None:
        state = bundles.get(identity)
        for approver in pull_request_approvers(settings, repo or os.environ.get("GITHUB_REPOSITORY", ""), pr, state):
            approval = bundles.approve(identity, stage, approver)
            stderr.print(f"{approval.who} approved {identity} for {stage} (review of #{pr})", highlight=False)
        return
    approval = bundles.approve(identity, stage, token_approver(settings, os.environ.get(APPROVER_TOKEN)))
    stderr.print(f"{approval.who} approved {identity} for {stage} at {approval.at:%Y-%m-%d %H:%M:%S} UTC")


@bundles_app.command("reverify")
def reverify_command(
    stack: Stack,
    data: Annotated[
        str | None, typer.Option("--data", help="gate on this data instead (e.g. a newer dataset version)")
    ] = None,
) -> None:
    """Gate the stack's running bundle again; a failure revokes it (no promotion, no rollback to it) and Slack hears."""
    from pipelines.deploy.reverify import reverify

    settings = load_settings()
    tools = _tools(settings, stack, None, 60)
    current = tools.releases.current(stack)
    if current is None or current.bundle_id is None:
        raise ConfigError(f"stack {stack!r} runs no bundle yet")
    verification = reverify(stack, tools.bundles.get(current.bundle_id), tools, data=data)
    tools.notifier.close()
    stderr.print(f"{current.bundle_id}: {'verified' if verification.passed else 'REVOKED: ' + verification.reason}")
    raise typer.Exit(0 if verification.passed else 1)


@bundles_app.command("check")
def check_command(stack: Stack, target: Targets = None, verify_timeout: VerifyTimeout = 60) -> None:
    """Post-deploy check of the running release; on a failure roll back to the last verified bundle (exit 1)."""
    from infra.config import parse_stack_config

    from pipelines.deploy.reverify import PostDeployPolicy, post_deploy_check
    from pipelines.infra.evaluate import stack_config

    settings = load_settings()
    policy = parse_stack_config(stack_config(stack)["tradeops:settings"], stack).promotion
    tools = _tools(settings, stack, target, verify_timeout)
    problems, release = post_deploy_check(
        stack, tools, PostDeployPolicy.of(policy), _soak_source(stack, settings.resolved_database_url)
    )
    tools.notifier.close()
    for problem in problems:
        stderr.print(f"x {problem}", highlight=False, markup=False)
    if release is not None:
        stderr.print(f"{stack}: {release.result}" + (f" to {release.rolled_back_to}" if release.rolled_back_to else ""))
    raise typer.Exit(1 if problems else 0)
