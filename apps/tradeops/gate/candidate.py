"""The candidate: what the gate judges. The same object sits in a YAML file or in the stack config.

strategy: sma_cross
params: {fast: 10, slow: 30}
data: sample:GOOG
execution: {cash: 10000, commission: 0.001}
thresholds:
  profitability: {min_sharpe: 0.5}
  safety: {max_drawdown_pct: 35}
provenance: {method: sweep, trials: 200, sharpe_variance: 0.21, grid: {fast: [5, 10, 15], slow: [20, 30]}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tradeops.data.window import Window
from tradeops.engine.settings import ExecutionSettings
from tradeops.errors import ConfigError, format_validation
from tradeops.gate.thresholds import Thresholds
from tradeops.strategies import get_strategy
from tradeops.strategies.base import StrategyParams, validate_params


class Provenance(BaseModel):
    """How the candidate was found: how many trials it is the best of, and how to rebuild their returns.

    A sweep records its grid (the fixed parameters are the candidate's); an Optuna study the points it
    tried. The gate backtests them again on the candidate's bars for the per-bar returns CSCV needs.
    A candidate written by hand is one trial (`trials: 1`), and the verdict says so.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["hand", "sweep", "walkforward", "optimize"] = Field(
        "hand", description="what produced the candidate"
    )
    trials: int = Field(1, ge=1, description="parameter points tried before this one was picked (1: by hand)")
    sharpe_variance: float | None = Field(
        None, ge=0, description="variance of the trials' annualised Sharpe ratios; None: computed from the trials"
    )
    grid: dict[str, list[Any]] | None = Field(None, description="a sweep's values per varied parameter")
    points: list[dict[str, Any]] | None = Field(None, description="the parameter points tried (an Optuna study)")
    run: str | None = Field(None, description="id of the stored run that found it (tradeops runs show ID)")

    @model_validator(mode="after")
    def _trials_fit_the_record(self) -> Provenance:
        if self.method == "hand" and self.trials != 1:
            raise ValueError("a candidate written by hand is one trial (trials: 1)")
        if self.points is not None and len(self.points) > self.trials:
            raise ValueError(f"{len(self.points)} points recorded for {self.trials} trials")
        return self


HAND_WRITTEN = Provenance()


class Candidate(BaseModel):
    """A strategy, its parameters, the data and costs to test it on, and the bar it must clear."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = Field(description="strategy name, e.g. sma_cross")
    params: dict[str, Any] = Field(default_factory=dict, description="strategy parameters; defaults fill the rest")
    data: str = Field(
        "sample:GOOG", description="data reference: a CSV/Parquet path, sample:NAME or dataset:NAME[@VERSION]"
    )
    window: Window | None = Field(
        None, description="judge only these bars, e.g. {last_days: 365}", exclude_if=lambda value: value is None
    )
    execution: ExecutionSettings = ExecutionSettings()
    thresholds: Thresholds = Thresholds()
    provenance: Provenance = Field(
        HAND_WRITTEN,
        description="how the candidate was found (default: by hand, one trial)",
        exclude_if=lambda value: value == HAND_WRITTEN,
    )

    @model_validator(mode="after")
    def _params_fit_strategy(self) -> Candidate:
        self.strategy_params()
        return self

    def strategy_params(self) -> StrategyParams:
        """Return the validated parameter point."""
        return validate_params(get_strategy(self.strategy), self.params)


def validate_candidate(raw: Any, source: str = "candidate") -> Candidate:
    """Validate a candidate object; a ConfigError names the source, the key path and the reason."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with 'strategy', 'params', 'data', ...")
    try:
        return Candidate.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{source}: {format_validation(error)}") from error
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from error


def load_candidate(path: Path) -> Candidate:
    """Read and validate a candidate YAML file."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from error
    return candidate_from_text(content, str(path))


def candidate_from_text(content: bytes | str, source: str) -> Candidate:
    """Parse and validate a candidate from YAML text."""
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from error
    return validate_candidate(raw, source)
