"""Execution settings: cash, costs, sizing and direction (the defaults of the front door)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Direction(StrEnum):
    """Which sides a strategy may trade."""

    LONG_ONLY = "long_only"
    LONG_SHORT = "long_short"
    SHORT_ONLY = "short_only"


class Sizing(StrEnum):
    """How big each entry is."""

    ALL_IN = "all_in"  # all available cash of the symbol's account
    FIXED_FRACTION = "fixed_fraction"  # `fraction` of available cash


DIRECTION_CODES = {Direction.LONG_ONLY: 0, Direction.LONG_SHORT: 1, Direction.SHORT_ONLY: 2}


MAX_CASH = 1e12  # beyond this, equity times price overflows float precision and metrics turn null


class ExecutionSettings(BaseModel):
    """How orders are filled. Signals on the close of bar t fill at the open of bar t + 1."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cash: float = Field(
        10_000.0,
        gt=0,
        le=MAX_CASH,
        description="initial cash, split equally between symbols (e.g. 10000; at most 1e12: metrics stay finite)",
    )
    commission: float = Field(0.0, ge=0, lt=0.1, description="fee per fill as a fraction of notional (0.001 = 0.1%)")
    slippage: float = Field(0.0, ge=0, lt=0.1, description="adverse price move per fill as a fraction (0.0005 = 5 bps)")
    sizing: Sizing = Field(Sizing.ALL_IN, description="all_in or fixed_fraction")
    fraction: float = Field(
        1.0, gt=0, le=1, description="share of available cash per entry with fixed_fraction (e.g. 0.5)"
    )
    direction: Direction = Field(Direction.LONG_ONLY, description="long_only, long_short or short_only")
    fractional_units: bool = Field(False, description="allow fractional units (crypto); whole units otherwise")

    @model_validator(mode="after")
    def _fraction_matches_sizing(self) -> ExecutionSettings:
        if self.sizing is Sizing.ALL_IN and self.fraction != 1.0:
            raise ValueError("fraction applies to sizing=fixed_fraction only; all_in always uses 1.0")
        return self
