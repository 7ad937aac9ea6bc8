"""Data quality thresholds, declared once: `data check`, the gate's `data_quality` group and the stack config.

Kept apart from the checks (tradeops.data.quality) so that validating a candidate or a stack config
never imports numpy or pandas.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Each check's name; its limit is the threshold `max_<name>` (null switches the check off).
CHECK_NAMES = (
    "missing_bars",
    "duplicate_bars",
    "backward_bars",
    "ohlc_errors",
    "future_bars",
    "spikes",
    "stale_runs",
    "zero_volume_runs",
)


class DataQuality(BaseModel):
    """How much of each defect the data may hold (counts, null = off), and what makes a defect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_missing_bars: int | None = Field(
        0, ge=0, description="bars missing against the timeframe at most (closures of a weekday market excepted)"
    )
    closure_max_weekdays: int = Field(
        2,
        ge=0,
        le=10,
        description="in a market without Saturday bars, a hole of a day or more that skips at most this many "
        "weekdays is a closure (weekend, holiday), not missing bars (e.g. 2)",
    )
    max_duplicate_bars: int | None = Field(0, ge=0, description="bars stamped the same as the bar before, at most")
    max_backward_bars: int | None = Field(0, ge=0, description="bars stamped earlier than the bar before, at most")
    max_ohlc_errors: int | None = Field(
        0,
        ge=0,
        description="bars whose prices are not finite, <= 0 or > 1e12, whose high/low do not bracket open and "
        "close, or whose volume is negative, at most",
    )
    max_future_bars: int | None = Field(0, ge=0, description="bars stamped after the time of the check, at most")
    spike_sigmas: float = Field(
        12.0,
        gt=0,
        description="a close-to-close log return beyond this many robust standard deviations (median/MAD) that "
        "the next bar takes at least half back is a spike (e.g. 12)",
    )
    max_spikes: int | None = Field(0, ge=0, description="spikes at most")
    stale_run_bars: int = Field(
        5, ge=2, description="this many consecutive bars with identical open, high, low and close make a stale run"
    )
    max_stale_runs: int | None = Field(0, ge=0, description="stale runs at most")
    zero_volume_run_bars: int = Field(5, ge=1, description="this many consecutive bars of zero volume make a run")
    max_zero_volume_runs: int | None = Field(0, ge=0, description="zero-volume runs at most")

    def limit(self, check: str) -> int | None:
        """Return the limit of one check (None: off)."""
        return {
            "missing_bars": self.max_missing_bars,
            "duplicate_bars": self.max_duplicate_bars,
            "backward_bars": self.max_backward_bars,
            "ohlc_errors": self.max_ohlc_errors,
            "future_bars": self.max_future_bars,
            "spikes": self.max_spikes,
            "stale_runs": self.max_stale_runs,
            "zero_volume_runs": self.max_zero_volume_runs,
        }[check]
