"""A window on the bars: judge recent data (the last N bars or days, or a start/end) not all history."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeops.data.bars import Bars
from tradeops.errors import DataError


class Window(BaseModel):
    """Which bars to keep: `start`/`end` (inclusive, UTC) and/or the last `bars` bars or `days` days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime | None = Field(None, description="first bar kept (ISO-8601, UTC when no offset)")
    end: datetime | None = Field(None, description="last bar kept (ISO-8601, UTC when no offset)")
    last_bars: int | None = Field(None, ge=2, description="keep only the last N bars (after start/end), e.g. 2000")
    last_days: float | None = Field(None, gt=0, description="keep only bars within N days of the last one, e.g. 90")

    @model_validator(mode="after")
    def _one_tail(self) -> Window:
        if self.last_bars is not None and self.last_days is not None:
            raise ValueError("give last_bars or last_days, not both")
        if self.start and self.end and _utc(self.start) > _utc(self.end):
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self

    def apply(self, bars: Bars) -> Bars:
        """Return the bars inside the window; a DataError when fewer than two remain."""
        stamps = bars.index
        keep = np.ones(len(stamps), dtype=bool)
        if self.start is not None:
            keep &= stamps >= _utc(self.start)
        if self.end is not None:
            keep &= stamps <= _utc(self.end)
        rows = np.flatnonzero(keep)
        if len(rows) and self.last_bars is not None:
            rows = rows[-self.last_bars :]
        if len(rows) and self.last_days is not None:
            rows = rows[stamps[rows] >= stamps[rows[-1]] - pd.Timedelta(days=self.last_days)]
        if len(rows) < 2:
            raise DataError(f"{bars.name}: the window {self.describe()} leaves {len(rows)} bar(s); need at least 2")
        return bars.slice(int(rows[0]), int(rows[-1]) + 1)

    def describe(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.model_dump(exclude_none=True, mode="json").items())


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def window_from_options(start: str | None, end: str | None) -> Window | None:
    """Build a window from `--start`/`--end` strings; a DataError names a time we cannot read."""
    if start is None and end is None:
        return None
    first, last = _parse(start, "--start"), _parse(end, "--end")
    if first is not None and last is not None and _utc(first) > _utc(last):
        raise DataError(f"--start {start} is after --end {end}: the window would hold no bar")
    return Window(start=first, end=last)


def _parse(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return pd.Timestamp(text).to_pydatetime()
    except ValueError as error:
        raise DataError(f"{option} {text!r} is not a date/time such as 2024-01-31 or 2024-01-31T15:30:00Z") from error
