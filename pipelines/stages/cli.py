"""`tradeops pipeline STAGE`: the stages CI calls, runnable the same on a laptop."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pipelines.deploy.cli import deploy_command, git, rollback_command
from pipelines.deploy.promote_cli import check_command, promote_command, reverify_command

if TYPE_CHECKING:
    from tradeops.releases import Release

app = typer.Typer(help="CI/CD stages, run the same locally and in CI.", no_args_is_help=True)
Stacks = Annotated[list[str] | None, typer.Option("--stack", help="stack name; repeat [default: see the stage]")]
Base = Annotated[str, typer.Option("--base", help="the branch the change goes into (changed files are against it)")]
Out = Annotated[Path, typer.Option("--out", help="folder for the stage's reports")]
OUT = Path("reports/pipeline")
stderr = Console(emoji=False, stderr=True, soft_wrap=True, highlight=False)


def stack_names() -> list[str]:
    from pipelines.infra.evaluate import stack_names as names

    return names()


def _fail_if(problems: list[str], what: str) -> None:
    for problem in problems:
        stderr.print(f"[red]x[/] {escape(problem)}")
    stderr.print(f"{what}: {len(problems)} problem(s)" if problems else f"{what}: ok")
    if problems:
        raise typer.Exit(1)


def _stacks(stack: list[str] | None, base: str | None, *, affected: bool) -> list[str]:
    from pipelines.stages.changes import affected_stacks, changed_files, changed_stacks

    if stack:
        return stack
    if base is None:
        return stack_names()
    files = changed_files(base)
    return affected_stacks(files) if affected else changed_stacks(files)


@app.command("validate")
def validate(stack: Stacks = None) -> None:
    """Stack config schema, the policy pack on what the program declares, and a secrets scan [default: all stacks]."""
    from pipelines.stages.validate import validate as run

    _fail_if(run(stack or stack_names()), "validate")


@app.command("test")
def test() -> None:
    """The README test command (`make test`) and a summary of its reports (reports/pipeline/test.json)."""
    from pipelines.stages.run_tests import run_tests

    summary = run_tests()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "test.json").write_text(json.dumps(summary, indent=2) + "\n")
    stderr.print(f"test: exit {summary['exit_code']}, reports: {', '.join(summary['reports']) or 'none'}")
    raise typer.Exit(summary["exit_code"] or (1 if summary["missing"] else 0))


@app.command("render-and-scan")
def render_and_scan(stack: Stacks = None, out: Out = Path("reports/manifests")) -> None:
    """Render every manifest offline, validate it against the Kubernetes schema and scan it with checkov."""
    from pipelines.stages.render_scan import render_and_scan as run

    problems = []
    for name in stack or stack_names():
        result = run(name, out / name)
        stderr.print(f"{name}: {result['manifests']} manifests, checkov {result['checkov']}")
        problems += [f"{name}: {p}" for p in result["problems"]]
    _fail_if(problems, "render-and-scan")


@app.command("map")
def system_map() -> None:
    """Fail when system_map.yaml, docs/diagrams.md or .env.example are stale."""
    from pipelines.environment import env_example_stale
    from pipelines.infra.system_map import drift

    stale = [f"stale: {name}; run `tradeops system-map` and commit the result" for name in drift()]
    if env_example_stale():
        stale.append("stale: .env.example; run `tradeops config env-example` and commit the result")
    _fail_if(stale, "map")


@app.command("gate")
def gate(stack: Stacks = None, base: Annotated[str | None, typer.Option("--base")] = None, out: Out = OUT) -> None:
    """The backtest gate on the candidate of each given stack, or of each stack whose config changed against --base."""
    from pipelines.stages.gate import gate_stack

    names = _stacks(stack, base, affected=False)
    worst = 0
    for name in names:
        verdict = gate_stack(name, out)
        worst = max(worst, verdict["exit_code"])
        stderr.print(f"gate {name}: {'passed' if verdict['passed'] else 'FAILED'} (exit {verdict['exit_code']})")
    if not names:
        stderr.print("gate: no stack config changed")
    raise typer.Exit(worst)


@app.command("preview")
def preview(
    stack: Stacks = None,
    base: Annotated[str | None, typer.Option("--base")] = None,
    drift: Annotated[bool, typer.Option("--drift", help="refresh and expect no changes; Slack on drift")] = False,
    out: Out = OUT,
) -> None:
    """`pulumi preview` of each affected stack (all with --drift): the summaries go to the PR comment."""
    from pipelines.deploy import engine as engines
    from pipelines.stages.notify import notify_drift
    from pipelines.stages.preview import preview_stack

    sha = git("rev-parse", "HEAD")
    engine = engines.open_engine()
    results = []
    for name in _stacks(stack, base, affected=True):
        current = _current_release(name) if drift else None  # drift: compare with what is deployed, not HEAD
        if current is None:
            results.append(preview_stack(engine, name, sha[:12], sha, out, drift=drift))
        else:
            results.append(
                preview_stack(engine, name, current.version, current.git_sha, out, drift=True, settings=current.config)
            )
    for result in results:
        stderr.print(f"preview {result['stack']}: {result['summary']} {escape(result['error'] or '')}")
    failed = any(r["error"] for r in results)
    if drift:
        from tradeops.notify import open_notifier
        from tradeops.settings import load_settings

        notifier = open_notifier(load_settings())
        failed = notify_drift(notifier, results) > 0
        notifier.close()
    raise typer.Exit(1 if failed else 0)


def _current_release(stack: str) -> Release | None:
    """The stack's running release from the release history the deploys record (None before the first)."""
    from tradeops.releases import ReleaseStore
    from tradeops.settings import load_settings
    from tradeops.store import open_object_store

    settings = load_settings()
    objects = open_object_store(settings.resolved_object_store, settings.s3_endpoint_url)
    current = ReleaseStore(objects).current(stack)
    if current is None:
        stderr.print(f"drift {stack}: no release recorded; comparing with this commit")
    return current


@app.command("comment")
def comment(
    repo: Annotated[str, typer.Option("--repo", help="owner/name [default: $GITHUB_REPOSITORY]")] = "",
    pr: Annotated[int, typer.Option("--pr", help="pull request number")] = 0,
    out: Out = OUT,
    run_url: Annotated[str | None, typer.Option("--run-url", help="link to the CI run and its artifacts")] = None,
) -> None:
    """Post (or edit in place) the one PR comment with the previews, the gate checks and the report links."""
    from pipelines.stages.comment import MARKER, comment_body
    from tradeops.errors import ConfigError
    from tradeops.settings import load_settings
    from tradeops.vcs import GitHubClient

    settings = load_settings()
    repo = repo or os.environ.get("GITHUB_REPOSITORY", "")
    if not repo or pr <= 0 or settings.github_token is None:
        raise ConfigError("comment needs --repo OWNER/NAME, --pr NUMBER and TRADEOPS_GITHUB_TOKEN")
    if run_url is None and os.environ.get("GITHUB_RUN_ID"):
        run_url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{repo}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    body = comment_body(out, run_url=run_url, sha=git("rev-parse", "HEAD"), running=_running_bundles())
    client = GitHubClient(settings.github_token.get_secret_value(), base_url=settings.github_api_url)
    try:
        posted = client.upsert_comment(repo, pr, MARKER, body)
    finally:
        client.close()
    stderr.print(f"{'posted' if posted.created else 'updated'} {posted.url}")


def _running_bundles() -> dict[str, tuple[str, str | None]]:
    """Each stack's running version and bundle, from the release store (empty when it cannot be read)."""
    from tradeops.releases import ReleaseStore
    from tradeops.settings import load_settings
    from tradeops.store import open_object_store

    settings = load_settings()
    try:
        releases = ReleaseStore(open_object_store(settings.resolved_object_store, settings.s3_endpoint_url))
        current = {name: releases.current(name) for name in stack_names()}
    except Exception as error:  # noqa: BLE001 - the comment goes out without the section, saying why
        stderr.print(f"comment: release store unreadable ({type(error).__name__}); no bundle section")
        return {}
    return {name: (r.version, r.bundle_id) for name, r in current.items() if r is not None}


@app.command("notify")
def notify(
    job: Annotated[str, typer.Option("--job", help="the CI job that failed")],
    workflow: Annotated[str, typer.Option("--workflow", help="[default: $GITHUB_WORKFLOW]")] = "",
    url: Annotated[str | None, typer.Option("--url", help="link to the run")] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="branch or tag [default: $GITHUB_REF_NAME]")] = None,
) -> None:
    """Tell Slack that a CI job failed."""
    from pipelines.stages.notify import notify_failed_job
    from tradeops.notify import open_notifier
    from tradeops.settings import load_settings

    notifier = open_notifier(load_settings())
    notify_failed_job(
        notifier,
        workflow or os.environ.get("GITHUB_WORKFLOW", "ci"),
        job,
        url,
        ref or os.environ.get("GITHUB_REF_NAME"),
    )
    notifier.close()


app.command("deploy")(deploy_command)
app.command("rollback")(rollback_command)
app.command("promote")(promote_command)
app.command("reverify")(reverify_command)
app.command("post-deploy-check")(check_command)
