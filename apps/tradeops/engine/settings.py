"""Execution settings: cash, costs, sizing, units and direction (the defaults of the front door).

Units follow the market: `lot_size` and `min_size` left unset take the market's (see
`tradeops.engine.sizing.for_bars`); given, they win.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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
    lot_size: float | None = Field(
        None,
        ge=0,
        le=MAX_CASH,
        description="amount step of an order: 1 = whole units, 0.00001 for BTC, 0 = any fraction; "
        "unset: the market's (a dataset's recorded precision; fractional for crypto, whole otherwise)",
    )
    min_size: float | None = Field(
        None,
        ge=0,
        le=MAX_CASH,
        description="smallest amount an entry may have (e.g. 0.00001); unset: the market's (a dataset's "
        "recorded minimum, else none)",
    )

    @model_validator(mode="before")
    @classmethod
    def _fractional_units_is_lot_size(cls, data: Any) -> Any:
        """Read `fractional_units` (candidate files and runs stored before lot sizes) as lot_size 0 or 1."""
        if isinstance(data, dict) and "fractional_units" in data:
            data = dict(data)
            fractional = data.pop("fractional_units")
            if data.get("lot_size") is None:
                data["lot_size"] = 0.0 if fractional else 1.0
        return data

    def summary(self) -> str:
        """The settings in one line, as runs list/show/compare and the dashboard show them."""
        from tradeops.engine.sizing import describe

        sizing = self.sizing.value if self.sizing is Sizing.ALL_IN else f"{self.sizing.value} {self.fraction:g}"
        return (
            f"cash {self.cash:,.0f}, commission {self.commission:g}, slippage {self.slippage:g}, {sizing}, "
            f"{self.direction.value}, {describe(self)}"
        )

    @model_validator(mode="after")
    def _fraction_matches_sizing(self) -> ExecutionSettings:
        if self.sizing is Sizing.ALL_IN and self.fraction != 1.0:
            raise ValueError("fraction applies to sizing=fixed_fraction only; all_in always uses 1.0")
        return self
