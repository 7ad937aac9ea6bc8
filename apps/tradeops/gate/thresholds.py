"""The thresholds a candidate must meet: profitability, safety and data quality, each limit optional (null = off)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tradeops.data.quality_thresholds import DataQuality
from tradeops.errors import ConfigError, format_validation


class Profitability(BaseModel):
    """Is the strategy worth running at all?"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_trades: int | None = Field(10, ge=0, description="closed trades at least (e.g. 10): too few is luck")
    min_sharpe: float | None = Field(0.5, description="annualised Sharpe ratio at least (e.g. 0.5)")
    min_profit_factor: float | None = Field(1.2, ge=0, description="gross profit / gross loss at least (e.g. 1.2)")
    min_total_return_pct: float | None = Field(0.0, description="total return at least, percent (e.g. 0)")
    min_excess_return_pct: float | None = Field(None, description="beat buy-and-hold by at least this, percent points")


class Safety(BaseModel):
    """Can it hurt us, and is the backtest itself trustworthy?"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_drawdown_pct: float | None = Field(
        35.0, gt=0, le=100, description="largest peak-to-trough loss at most, percent"
    )
    max_exposure_pct: float | None = Field(
        None, gt=0, le=100, description="share of bars in the market at most, percent"
    )
    max_skipped_entries: int | None = Field(
        0,
        ge=0,
        description="entry signals that could not be executed (cash below one lot or the minimum) at most",
    )
    oos_train_fraction: float | None = Field(
        0.7, gt=0.1, lt=0.95, description="in-sample share of the bars for the out-of-sample check"
    )
    min_oos_sharpe_ratio: float | None = Field(
        0.3, description="out-of-sample Sharpe at least this fraction of in-sample Sharpe"
    )
    lookahead_cuts: int | None = Field(20, ge=2, le=1000, description="cut points of the no-lookahead check")
    min_robust_share: float | None = Field(
        0.5, ge=0, le=1, description="share of neighbouring parameter points that must also pass"
    )


class Selection(BaseModel):
    """Is the edge more than the luck of the best of many tries, and no worse than what runs now?"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_deflated_sharpe: float | None = Field(
        0.95,
        ge=0,
        le=1,
        description="probability that the true Sharpe is above zero given the trials it was picked from (e.g. 0.95)",
    )
    max_pbo: float | None = Field(
        0.2, ge=0, le=1, description="probability of backtest overfitting by CSCV over the trials at most (e.g. 0.2)"
    )
    pbo_splits: int = Field(
        16, ge=2, le=20, multiple_of=2, description="blocks the bars are cut into for CSCV (even; 20 = 184,756 splits)"
    )
    champion_margin_pct: float | None = Field(
        10.0,
        ge=0,
        description="annualised return, percent points, the candidate may trail the running bundle by (e.g. 10)",
    )
    champion_confidence: float = Field(
        0.95, gt=0.5, lt=1, description="confidence of the paired test that refuses a candidate worse than that"
    )


class Thresholds(BaseModel):
    """The four groups; every name is unique, so `--threshold NAME=VALUE` needs no group."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profitability: Profitability = Profitability()
    safety: Safety = Safety()
    selection: Selection = Selection()
    data_quality: DataQuality = DataQuality()

    def with_overrides(self, overrides: dict[str, Any]) -> Thresholds:
        """Return a copy with flat `name: value` overrides applied (None switches a check off)."""
        groups: dict[str, dict[str, Any]] = {name: getattr(self, name).model_dump() for name in type(self).model_fields}
        for name, value in overrides.items():
            group = next((g for g, values in groups.items() if name in values), None)
            if group is None:
                known = sorted(n for values in groups.values() for n in values)
                raise ConfigError(f"unknown threshold {name!r}; thresholds: {', '.join(known)}")
            groups[group][name] = value
        return validate_thresholds(groups)


def validate_thresholds(raw: Any) -> Thresholds:
    """Validate a thresholds object; a ConfigError names each bad key path."""
    try:
        return Thresholds.model_validate(raw or {})
    except ValidationError as error:
        raise ConfigError(f"invalid thresholds: {format_validation(error)}") from error
