"""Adaptive parameter search on Optuna: TPE over the strategy's own parameter model, the study in our database.

The space names parameters of the strategy's model and their bounds; each field's type picks an
integer or a float suggestion, and a point the model refuses (a cross-field rule such as fast < slow)
is pruned, as is one whose objective is undefined. The study lives in our database, so any number of
processes or pods with the same storage and study name work on one study: PostgreSQL keeps it in
an `optuna` schema of our database, SQLite in a sibling file (Optuna keeps its own migration table,
which must not meet ours).

A study reads one data version: the run that creates it pins `dataset:NAME` to the latest version
and records it (and its sha256) in the study's user attributes; every worker that joins later,
however late, reads that version, and each trial records the version it read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tradeops.errors import ConfigError

if TYPE_CHECKING:
    import optuna

    from tradeops.strategies.base import Strategy

OPTUNA_SCHEMA = "optuna"


class Dimension(BaseModel):
    """One searched parameter: its name, bounds (inclusive) and whether it is an integer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    low: float
    high: float
    integer: bool


class Search(BaseModel):
    """One study: what is searched, on what, for which objective (what every worker needs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str
    data: str
    max_gap: str | None = None
    params: dict[str, Any] = {}
    space: tuple[Dimension, ...]
    settings: dict[str, Any] = {}
    objective: str = "sharpe"
    study: str
    storage: str
    seed: int | None = None


def parse_space(strategy: Strategy, items: list[str]) -> tuple[Dimension, ...]:
    """Parse repeated `NAME=LOW:HIGH`; the parameter model says which names exist and their types."""
    from tradeops.cli.options import parse_assignments, parse_value

    fields = strategy.Params.model_fields
    dimensions = []
    for name, spec in parse_assignments(items, "--space").items():
        if name not in fields:
            raise ConfigError(f"--space {name}: {strategy.name} has no such parameter; parameters: {', '.join(fields)}")
        kind = fields[name].annotation
        bounds = [parse_value(v) for v in spec.split(":")]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in bounds)
        if kind not in (int, float) or len(bounds) != 2 or not numbers or bounds[0] >= bounds[1]:
            raise ConfigError(f"--space {name}={spec!r} must be LOW:HIGH numbers with LOW < HIGH (int or float field)")
        if kind is int and not all(isinstance(v, int) for v in bounds):
            raise ConfigError(f"--space {name}={spec!r}: {name} is an integer parameter; give integer bounds")
        dimensions.append(Dimension(name=name, low=bounds[0], high=bounds[1], integer=kind is int))
    if not dimensions:
        raise ConfigError("give at least one --space NAME=LOW:HIGH")
    return tuple(dimensions)


def storage_for(database_url: str) -> tuple[str, dict[str, Any]]:
    """Optuna's storage URL and engine options for our database (see the module docstring)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            raise ConfigError("an Optuna study needs a database file or server, not an in-memory SQLite")
        return str(url.set(database=database.removesuffix(".db") + ".optuna.db")), {}
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url, connect_args={"connect_timeout": 10})
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {OPTUNA_SCHEMA}"))
        engine.dispose()
        options = {"connect_args": {"options": f"-csearch_path={OPTUNA_SCHEMA}", "connect_timeout": 10}}
        return url.render_as_string(hide_password=False), options
    raise ConfigError(f"--storage: {url.get_backend_name()} is not supported (use sqlite or postgresql)")


def direction_of(objective: str) -> Literal["minimize", "maximize"]:
    from tradeops.engine.backtest import LOWER_IS_BETTER
    from tradeops.engine.metrics import METRIC_NAMES

    if objective not in METRIC_NAMES:
        raise ConfigError(f"--objective {objective!r} is not a metric; metrics: {', '.join(METRIC_NAMES)}")
    return "minimize" if objective in LOWER_IS_BETTER else "maximize"


def open_study(search: Search) -> optuna.Study:
    """Create the study, or join it when another worker made it first."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, engine_options = storage_for(search.storage)
    storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_options)
    return optuna.create_study(
        storage=storage,
        study_name=search.study,
        direction=direction_of(search.objective),
        sampler=optuna.samplers.TPESampler(seed=search.seed),
        load_if_exists=True,
    )


def bind_data(study: optuna.Study, search: Search) -> Search:
    """Return `search` on the data version the study records; pin and record it when the study has none.

    A worker given another version than the study's is refused: one study, one data version.
    """
    from tradeops.data.pinning import pin

    recorded = study.user_attrs.get("data")
    if recorded is None:
        pinned = pin(search.data)
        study.set_user_attr("data", pinned.reference)
        study.set_user_attr("data_sha256", pinned.sha256)
        return search.model_copy(update={"data": pinned.reference})
    if search.data not in (recorded, recorded.partition("@")[0] if recorded.startswith("dataset:") else recorded):
        raise ConfigError(
            f"study {search.study} reads {recorded}, not {search.data}: give another --study to search other data"
        )
    return search.model_copy(update={"data": recorded})


@dataclass
class Objective:
    """Backtest one suggested point on the loaded bars; prune what the model refuses or cannot score."""

    search: Search

    def __post_init__(self) -> None:
        from tradeops.data import load_bars
        from tradeops.engine.settings import ExecutionSettings
        from tradeops.strategies import get_strategy

        self.strategy = get_strategy(self.search.strategy)
        self.bars = load_bars(self.search.data, max_gap=self.search.max_gap)
        self.settings = ExecutionSettings.model_validate(self.search.settings)
        provenance = self.bars.provenance()
        self.data = {"data": provenance["ref"], "data_sha256": provenance["sha256"]}

    def __call__(self, trial: optuna.Trial) -> float:
        import optuna

        from tradeops.engine import run_grid

        trial.set_user_attr("worker", os.getpid())  # which process ran it: workers share one study
        for name, value in self.data.items():  # the exact data version this trial read
            trial.set_user_attr(name, value)
        suggested = {
            d.name: trial.suggest_int(d.name, int(d.low), int(d.high))
            if d.integer
            else trial.suggest_float(d.name, d.low, d.high)
            for d in self.search.space
        }
        try:
            point = self.strategy.Params.model_validate(self.search.params | suggested)
        except ValidationError:
            raise optuna.TrialPruned("the parameter model refuses this point") from None
        value = float(run_grid(self.strategy, [point], self.bars, self.settings)[self.search.objective].iloc[0])
        if not math.isfinite(value):
            raise optuna.TrialPruned(f"{self.search.objective} is undefined at this point")
        return value


def work(search_json: str, trials: int) -> int:
    """One worker: join the study and run trials until the study holds `trials` finished ones."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    search = Search.model_validate_json(search_json)
    study = open_study(search)
    search = bind_data(study, search)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    study.optimize(Objective(search), n_trials=trials, callbacks=[MaxTrialsCallback(trials, states=finished)])
    return len(study.trials)


def optimize(search: Search, trials: int, workers: int = 1) -> tuple[optuna.Study, Search]:
    """Run `trials` trials in `workers` processes sharing the study; return it and the search on its data version."""
    search = bind_data(open_study(search), search)  # created and pinned once, before the workers race to join it
    if workers == 1:
        work(search.model_dump_json(), trials)
    else:
        from tradeops.processes import results, worker_pool

        with worker_pool(workers) as pool:  # workers that die with this process
            list(results([pool.submit(work, search.model_dump_json(), trials) for _ in range(workers)], "trials"))
    return open_study(search), search


def summary(study: optuna.Study, search: Search) -> dict[str, Any]:
    """The study's outcome: counts per state and the best trial (None when every trial was pruned)."""
    from optuna.trial import TrialState

    states = {state.name.lower(): 0 for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    for trial in study.trials:
        if trial.state.name.lower() in states:
            states[trial.state.name.lower()] += 1
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    best = study.best_trial if complete else None
    return {
        "study": search.study,
        "strategy": search.strategy,
        "data": search.data,
        "data_sha256": study.user_attrs.get("data_sha256"),
        "objective": search.objective,
        "direction": direction_of(search.objective),
        "trials": len(study.trials),
        "states": states,
        "best": None
        if best is None
        else {"number": best.number, "value": best.value, "params": search.params | best.params},
    }


def study_candidate(study: optuna.Study, search: Search) -> dict[str, Any] | None:
    """The best trial as a candidate recording the study: its finished trials, their points and Sharpe spread."""
    from optuna.trial import TrialState

    from tradeops.sweeps.found import found_candidate, sharpe_variance

    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not complete:
        return None
    variance = None
    if search.objective == "sharpe":
        import pandas as pd

        variance = sharpe_variance(pd.Series([t.value for t in complete], dtype=float))
    return found_candidate(
        strategy=search.strategy,
        data=search.data,
        params=search.params | study.best_trial.params,
        execution=search.settings,
        method="optimize",
        trials=len(complete),
        variance=variance,
        points=[dict(t.params) for t in complete],
        run=f"study:{search.study}",
    )
