"""`tradeops gate`: judge a candidate; exit 0 pass, 1 a threshold not met, 2 could not decide."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeops.cli.options import (
    GIVEN_NONE,
    AsJson,
    End,
    ExecutionOptions,
    MaxGap,
    Params,
    Report,
    Start,
    emit_json,
    execution_options,
    parse_assignments,
    parse_params,
    parse_value,
    plain_console,
    warn_short_window,
    warn_skipped,
)
from tradeops.data.window import window_from_options
from tradeops.errors import TradeopsError
from tradeops.gate import Candidate, Verdict, load_candidate, run_gate, running_champion, validate_candidate
from tradeops.reports import write_report


def _stack_candidate(stack: str) -> dict[str, Any]:
    """The candidate in `infra/stacks/Pulumi.<stack>.yaml` (read from the current directory, the repository root)."""
    from tradeops.vcs.stackfile import read_settings, stack_file

    path = Path(stack_file(stack))
    try:
        text = path.read_text()
    except OSError as error:
        raise TradeopsError(f"{path}: cannot be read ({error.strerror}); run from the repository root") from None
    candidate = read_settings(text, str(path)).get("candidate")
    if not isinstance(candidate, dict):
        raise TradeopsError(f"{path}: no `candidate` mapping under tradeops:settings")
    return candidate


def _candidate(
    stack: str | None,
    config: Path | None,
    strategy: str | None,
    param: list[str] | None,
    data: str | None,
    thresholds: list[str] | None,
    execution: ExecutionOptions,
) -> Candidate:
    if stack is not None and config is not None:
        raise TradeopsError("give --stack or --config, not both")
    base: dict[str, Any]
    if stack is not None:
        base = dict(_stack_candidate(stack))
    elif config is not None:
        base = load_candidate(config).model_dump()
    if stack is not None or config is not None:
        if param:
            base["params"] = base["params"] | parse_params(param)
        if strategy is not None:
            base["strategy"] = strategy
    elif strategy is not None:
        base = {"strategy": strategy, "params": parse_params(param)}
    else:
        raise TradeopsError("give --stack NAME, --config FILE or --strategy NAME [--param NAME=VALUE ...]")
    if data is not None:
        base["data"] = data
    candidate = validate_candidate(base, f"stack {stack}" if stack else str(config or "command line"))
    overrides = {name: parse_value(value) for name, value in parse_assignments(thresholds, "--threshold").items()}
    settings = execution.settings(candidate.execution)
    return candidate.model_copy(
        update={"thresholds": candidate.thresholds.with_overrides(overrides), "execution": settings}
    )


def _print(verdict: Verdict) -> None:
    console = Console(emoji=False)
    errors = Console(emoji=False, stderr=True, soft_wrap=True)  # an undecided verdict is an error: stderr
    if verdict.error is not None and not verdict.checks:
        errors.print(f"[bold red]UNDECIDED[/] (exit 2): {escape(verdict.error)}", highlight=False)
        return
    table = Table(title="gate checks")
    for column in ("check", "group", "value", "limit", "result"):
        table.add_column(column, no_wrap=True)
    for check in verdict.checks:
        value = "n/a" if check.value is None else f"{check.value:,.4f}"
        limit = "n/a" if check.limit is None else f"{check.limit:,.4f}"
        result = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(check.name, check.group, value, limit, result)
    console.print(table)
    for check in verdict.checks:
        if check.detail:
            console.print(f"  {check.name}: {escape(check.detail)}", highlight=False)
    if verdict.error is not None:  # checks that ran before the verdict became undecided (data quality): the verdict
        console.print(f"[bold red]UNDECIDED[/] (exit 2): {escape(verdict.error)}", highlight=False)
        return
    word = "[bold green]PASSED[/]" if verdict.passed else "[bold red]FAILED[/]"
    console.print(f"{word} (exit {verdict.exit_code})")


def _record_stack_verdict(candidate: Candidate | None, verdict: Verdict) -> Verdict:
    """Record the verdict as the stack candidate's; return it, or an undecided one when it cannot be recorded."""
    from tradeops.settings import load_settings
    from tradeops.store import RunStore
    from tradeops.store.stack_verdict import record_stack_verdict

    try:
        store = RunStore.from_settings(load_settings())
        try:
            record_stack_verdict(store, candidate, verdict)
        finally:
            store.close()
    except Exception as error:  # noqa: BLE001 - any store failure: the verdict must not pass unrecorded
        return Verdict(error=f"the verdict could not be recorded as the stack's: {type(error).__name__}: {error}")
    return verdict


@execution_options()
def gate(
    stack: Annotated[
        str | None, typer.Option("--stack", help="the candidate of infra/stacks/Pulumi.<stack>.yaml")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="candidate YAML file")] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", "-s", help="strategy (instead of or over --config)")
    ] = None,
    param: Params = None,
    data: Annotated[str | None, typer.Option("--data", "-d", help="data reference (overrides the candidate's)")] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", "-t", help="NAME=VALUE, e.g. min_sharpe=0.8; none switches a check off"),
    ] = None,
    as_json: AsJson = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write the verdict JSON here")] = None,
    stack_verdict: Annotated[
        bool,
        typer.Option(
            "--stack-verdict",
            help="record the verdict in the run store as the stack candidate's (what the gate Job does; "
            "the gate metric, its alert and `tradeops monitor` read only these)",
        ),
    ] = False,
    report: Report = None,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
    start: Start = None,
    end: End = None,
) -> None:
    """Judge a candidate against its thresholds; every check is printed with value and limit.

    With --stack, the `champion` check compares the candidate with the bundle the stack runs (its
    releases in the object store the settings name); without, there is no champion and it passes.
    With --stack-verdict the verdict (an undecided one too) is recorded as the stack's; a verdict that
    cannot be recorded exits 2, since the stack's gate metric would then describe an older one.
    """
    candidate: Candidate | None = None
    try:
        candidate = _candidate(stack, config, strategy, param, data, threshold, execution)
        window = window_from_options(start, end)
        if window is not None:
            candidate = candidate.model_copy(update={"window": window})
        champion = running_champion(stack) if stack is not None else None  # the bundle the stack runs now
        verdict, result = run_gate(candidate, max_gap=max_gap, champion=champion)
    except TradeopsError as error:
        verdict, result = Verdict(error=str(error)), None
    except Exception as error:  # noqa: BLE001 - a crash must still yield "undecided", never a pass
        verdict, result = Verdict(error=f"internal error: {type(error).__name__}: {error}"), None
    if result is not None:
        warn_short_window(result.strategy, result.params, result.bars)
        warn_skipped(result.metrics["skipped_entries"], result.bars, result.settings)
    if stack_verdict:
        verdict = _record_stack_verdict(candidate, verdict)
    if out is not None:
        emit_json(verdict.to_dict(), out)
    if report is not None and result is not None:
        write_report(report, result, verdict)
        plain_console(stderr=True).print(f"report written to {report}")
    if as_json:
        emit_json(verdict.to_dict())
    else:
        _print(verdict)
    raise typer.Exit(verdict.exit_code)
