"""`tradeops backtest optimize`: adaptive search (Optuna TPE), the best trial then judged by the gate."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import typer
from rich.console import Console

from tradeops.cli.options import (
    GIVEN_NONE,
    AsJson,
    Data,
    ExecutionOptions,
    MaxGap,
    Params,
    Strategy,
    emit_json,
    execution_options,
    parse_assignments,
    parse_params,
    parse_value,
)
from tradeops.errors import ConfigError

stdout = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)


def _study_name(fields: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{fields['strategy']}-{fields['objective']}-{digest}"


@execution_options()
def optimize(
    strategy: Strategy,
    data: Data,
    space: Annotated[list[str], typer.Option("--space", help="NAME=LOW:HIGH, bounds included; repeat per parameter")],
    trials: Annotated[
        int, typer.Option("--trials", min=1, max=100_000, help="finished trials the study ends with")
    ] = 50,
    objective: Annotated[str, typer.Option("--objective", help="metric to optimise, e.g. sharpe")] = "sharpe",
    storage: Annotated[
        str | None, typer.Option("--storage", help="SQLAlchemy URL of the study's database (default: ours)")
    ] = None,
    study: Annotated[str | None, typer.Option("--study", help="study name; the same name resumes or shares it")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="processes working on the study")] = 1,
    seed: Annotated[
        int | None, typer.Option("--seed", help="seed of the TPE sampler (one worker: reproducible)")
    ] = None,
    gate: Annotated[bool, typer.Option("--gate/--no-gate", help="judge the best trial with the gate")] = True,
    threshold: Annotated[list[str] | None, typer.Option("--threshold", help="gate threshold NAME=VALUE")] = None,
    param: Params = None,
    as_json: AsJson = False,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
) -> None:
    """Search the parameter space for the best objective; the best trial then goes through the gate."""
    from tradeops.settings import load_settings
    from tradeops.strategies import get_strategy
    from tradeops.sweeps.optimize import Search, direction_of, parse_space, study_candidate, summary
    from tradeops.sweeps.optimize import optimize as run_study

    chosen = get_strategy(strategy)
    direction_of(objective)  # refuse an unknown metric before any work
    settings = execution.settings()
    dimensions = parse_space(chosen, space)
    fixed = parse_params(param)
    fields = {
        "strategy": strategy,
        "data": data,
        "params": fixed,
        "space": [d.model_dump() for d in dimensions],
        "settings": settings.model_dump(mode="json"),
        "objective": objective,
    }
    if storage is None:
        app_settings = load_settings()
        app_settings.data_dir.mkdir(parents=True, exist_ok=True)
        storage = app_settings.resolved_database_url
    search = Search(
        strategy=strategy,
        data=data,
        max_gap=max_gap,
        params=fixed,
        space=dimensions,
        settings=fields["settings"],
        objective=objective,
        study=study or _study_name(fields),
        storage=storage,
        seed=seed,
    )
    study_run, search = run_study(search, trials, workers)  # the search on the study's pinned data version
    outcome = summary(study_run, search)
    if outcome["best"] is None:
        raise ConfigError(f"all {outcome['trials']} trials were pruned: no point of the space can be scored")
    code = 0
    outcome["candidate"] = study_candidate(study_run, search)
    if gate:
        outcome["verdict"], code = _judge(search, outcome["candidate"], threshold)
    if as_json:
        emit_json(outcome)
    else:
        best = outcome["best"]
        stdout.print(
            f"study {search.study} on {search.data}: {outcome['trials']} trials "
            f"({outcome['states']['pruned']} pruned); best "
            f"{objective} {best['value']:.4f} at {best['params']} (trial {best['number']})"
        )
        if gate:
            verdict = outcome["verdict"]
            stdout.print(f"gate: {'PASSED' if verdict['passed'] else 'FAILED'} (exit {verdict['exit_code']})")
    if code:
        raise typer.Exit(code)


def _judge(search: Any, found: dict[str, Any], thresholds: list[str] | None) -> tuple[dict, int]:
    from tradeops.gate import run_gate, validate_candidate

    candidate = validate_candidate(found, "the best trial")  # with the study as its provenance
    overrides = {name: parse_value(value) for name, value in parse_assignments(thresholds, "--threshold").items()}
    candidate = candidate.model_copy(update={"thresholds": candidate.thresholds.with_overrides(overrides)})
    verdict, _ = run_gate(candidate, max_gap=search.max_gap)
    payload = verdict.to_dict()
    payload.pop("result", None)
    return payload, verdict.exit_code
