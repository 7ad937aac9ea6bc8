"""Check market data for the defects that silently ruin a backtest: count them, say where, compare with limits.

Eight checks per symbol, each vectorised over the symbol's bars:

- `missing_bars`: bars missing against the timeframe (the dataset's, else the most common step).
  A market that trades at weekends (any bar on a Saturday, UTC: crypto) must have every bar. A market
  without Saturday bars (equities, FX) closes: a hole of at least a day that skips at most
  `closure_max_weekdays` weekdays is a closure (a weekend, a holiday; Hurricane Sandy shut US
  equities for two) and is not counted; a shorter hole (hours missing inside a trading day) or a
  longer one is. Without an exchange calendar a missing single trading day of daily bars cannot be
  told from a holiday: it is taken as a holiday.
- `duplicate_bars`, `backward_bars`: bars stamped the same as, or earlier than, the bar before.
- `ohlc_errors`: prices not finite, <= 0 or above 1e12; high below max(open, close), low above
  min(open, close); volume negative or not finite.
- `future_bars`: bars stamped after the time of the check.
- `spikes`: a close-to-close log return beyond `spike_sigmas` robust standard deviations (median
  and 1.4826 x MAD of the symbol's returns) that the next bar takes at least half back.
- `stale_runs`: `stale_run_bars` or more consecutive bars with identical open, high, low and close.
- `zero_volume_runs`: `zero_volume_run_bars` or more consecutive bars of zero volume.

The loaders refuse duplicates, unsorted times and broken OHLC outright; the checks count them too, so
that `data check` reports every defect of a stored version at once rather than the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from tradeops.data.bars import Bars
from tradeops.data.columns import Columns, bars_columns, frames_columns
from tradeops.data.fields import FIELDS
from tradeops.data.quality_thresholds import CHECK_NAMES, DataQuality
from tradeops.data.timeframes import infer_timeframe, timeframe_seconds
from tradeops.data.validate import MAX_PRICE
from tradeops.errors import DataError

MAX_WHERE = 5  # places listed per check
REVERT_SHARE = 0.5  # a spike's next return takes back at least this share of it
DAY = 86_400
WEEK_CLOSURE = "closes (no Saturday bars): weekend and holiday holes tolerated"
ALWAYS_OPEN = "trades every day: every missing bar counts"


@dataclass(frozen=True)
class QualityCheck:
    """One check: how many defects, the first few places, its limit (None: off)."""

    name: str
    count: int
    limit: int | None
    where: list[dict[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.limit is None or self.count <= self.limit

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "limit": self.limit, "passed": self.passed, "where": self.where}


@dataclass(frozen=True)
class QualityReport:
    """Every check over every symbol, with the timeframe and market calendar the gaps were judged against."""

    checks: list[QualityCheck]
    timeframe: str | None
    calendar: str
    checked_at: str

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[QualityCheck]:
        return [check for check in self.checks if not check.passed]

    def summary(self) -> str:
        """Return one line naming each failed check with its count, limit and first place."""
        parts = []
        for check in self.failed:
            first = check.where[0] if check.where else {}
            place = f" (first: {first.get('symbol')} at {first.get('at')})" if first else ""
            parts.append(f"{check.name} {check.count:,} > {check.limit}{place}")
        return "; ".join(parts) if parts else "every check passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "timeframe": self.timeframe,
            "calendar": self.calendar,
            "checked_at": self.checked_at,
            "checks": [check.to_dict() for check in self.checks],
        }


_Event = tuple[str, int, np.ndarray, np.ndarray, list[str]]  # check, count, times, rows, details


@dataclass
class _Found:
    """Per check: the running count and the places listed so far."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECK_NAMES, 0))
    where: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {name: [] for name in CHECK_NAMES})

    def add(self, name: str, count: int, symbol: str, stamps: np.ndarray, rows: np.ndarray, details: list[str]) -> None:
        self.counts[name] += count
        room = MAX_WHERE - len(self.where[name])
        for row, detail in zip(rows[:room], details[:room], strict=False):
            self.where[name].append({"symbol": symbol, "at": _iso(stamps[row]), "detail": detail})


def check_bars(
    bars: Bars, thresholds: DataQuality | None = None, *, timeframe: str | None = None, now: datetime | None = None
) -> QualityReport:
    """Run every check on each symbol of `bars` (validated or not); the timeframe defaults to the commonest step."""
    return _check(bars_columns(bars), thresholds, timeframe, now)


def check_frames(
    frames: dict[str, pd.DataFrame],
    thresholds: DataQuality | None = None,
    *,
    timeframe: str | None = None,
    now: datetime | None = None,
) -> QualityReport:
    """Run every check on per-symbol `timestamp, open, ..., volume` frames (a dataset's, unvalidated)."""
    return _check(frames_columns(frames), thresholds, timeframe, now)


def split_symbols(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Split a long frame (a `symbol` column, as a dataset is read) into one frame per symbol, order kept."""
    return {str(symbol): part.reset_index(drop=True) for symbol, part in frame.groupby("symbol", sort=True)}


def _check(
    series: Columns,
    thresholds: DataQuality | None,
    timeframe: str | None,
    now: datetime | None,
) -> QualityReport:
    limits = thresholds or DataQuality()
    moment = now or datetime.now(UTC)
    now64 = np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "ns")
    every_stamp = np.concatenate([stamps for stamps, _ in series.values()]) if series else np.array([], "M8[ns]")
    step = _step(series, timeframe)
    closes = step is not None and step < 7 * DAY and not bool((_weekday(every_stamp) == 5).any())
    found = _Found()
    for symbols, stamps in _timelines(series):  # symbols on one timeline: its checks run once
        events = _timeline(stamps, step, closes, limits, now64)
        for symbol in symbols:
            for name, count, where, rows, details in events:
                found.add(name, count, symbol, where, rows, details)
        _prices(found, {symbol: series[symbol][1] for symbol in symbols}, stamps, limits)
    checks = [QualityCheck(name, found.counts[name], limits.limit(name), found.where[name]) for name in CHECK_NAMES]
    tf = None if step is None else (timeframe or _name(step))
    return QualityReport(checks, tf, WEEK_CLOSURE if closes else ALWAYS_OPEN, moment.isoformat(timespec="seconds"))


def _step(series: Columns, timeframe: str | None) -> int | None:
    if timeframe is not None:
        return timeframe_seconds(timeframe)
    longest = max((stamps for stamps, _ in series.values()), key=len, default=None)
    if longest is None:
        return None
    try:
        return timeframe_seconds(infer_timeframe(longest))
    except DataError:  # one bar, or times that never advance: no timeframe, no gap check
        return None


def _name(seconds: int) -> str:
    from tradeops.data.timeframes import timeframe_name

    return timeframe_name(seconds)


def _timeline(
    stamps: np.ndarray, step: int | None, closes: bool, limits: DataQuality, now: np.datetime64
) -> list[_Event]:
    """Return what the timeline checks found, to be added for every symbol on this timeline."""
    found: list[_Event] = []
    future = np.flatnonzero(stamps > now)
    found.append(("future_bars", len(future), stamps, future, ["stamped after the check"] * MAX_WHERE))
    if len(stamps) < 2:
        return found
    seconds = stamps.astype("datetime64[s]").astype("int64")
    jumps = np.diff(seconds)
    same = np.flatnonzero(jumps == 0) + 1
    found.append(("duplicate_bars", len(same), stamps, same, ["same time as the bar before"] * MAX_WHERE))
    back = np.flatnonzero(jumps < 0) + 1
    found.append(("backward_bars", len(back), stamps, back, ["earlier than the bar before"] * MAX_WHERE))
    if step is None:
        return found
    timeline = np.unique(stamps)  # holes are judged on the sorted timeline: an unsorted bar is not a gap too
    seconds = timeline.astype("datetime64[s]").astype("int64")
    jumps = np.diff(seconds)
    holes = np.flatnonzero(jumps > step)
    if closes:  # a market without Saturday bars: leave out the weekends a hole spans, forgive short closures
        days = seconds // DAY
        first, last = (days[holes] + 1).astype("datetime64[D]"), days[holes + 1].astype("datetime64[D]")
        weekdays = np.busday_count(first, last)
        weekend_seconds = (days[holes + 1] - days[holes] - 1 - weekdays) * DAY
        missing = (jumps[holes] - weekend_seconds) // step - 1
        closure = (jumps[holes] >= DAY) & (weekdays <= limits.closure_max_weekdays)
        holes, missing = holes[~closure], missing[~closure]
    else:
        missing = jumps[holes] // step - 1
    holes, missing = holes[missing > 0], missing[missing > 0]
    rows = zip(holes[:MAX_WHERE], missing, strict=False)
    details = [f"{int(n)} bar(s) missing before {_iso(timeline[i + 1])}" for i, n in rows]
    found.append(("missing_bars", int(missing.sum()), timeline, holes, details))
    return found


def _timelines(series: Columns) -> list[tuple[list[str], np.ndarray]]:
    """Group consecutive symbols whose times are equal (every symbol of validated bars: one group)."""
    groups: list[tuple[list[str], np.ndarray]] = []
    for symbol, (stamps, _) in series.items():
        if groups and np.array_equal(groups[-1][1], stamps):
            groups[-1][0].append(symbol)
        else:
            groups.append(([symbol], stamps))
    return groups


def _prices(found: _Found, columns: dict[str, dict[str, np.ndarray]], stamps: np.ndarray, limits: DataQuality) -> None:
    """Screen every symbol of one timeline at once; check a symbol one by one only where the screen finds something."""
    wide = {name: np.stack([values[name] for values in columns.values()]) for name in FIELDS}  # a row per symbol
    open_, high, low, close, volume = (wide[name] for name in FIELDS)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(open_) & np.isfinite(high) & np.isfinite(low) & np.isfinite(close)
        positive = (open_ > 0) & (high > 0) & (low > 0) & (close > 0)
        plausible = (open_ <= MAX_PRICE) & (high <= MAX_PRICE) & (low <= MAX_PRICE) & (close <= MAX_PRICE)
        bracketed = (high >= np.maximum(open_, close)) & (low <= np.minimum(open_, close)) & (high >= low)
        clean = finite & positive & plausible & bracketed & np.isfinite(volume) & (volume >= 0)
    moves = np.diff(open_, axis=1) != 0
    for prices in (high, low, close):
        moves |= np.diff(prices, axis=1) != 0
    suspects = ~clean.all(axis=1) | ~moves.all(axis=1) | (volume == 0).any(axis=1) | _spike_screen(close, limits)
    for row, (symbol, values) in enumerate(columns.items()):
        if suspects[row]:
            _symbol_prices(found, symbol, stamps, values, limits)


def _spike_screen(close: np.ndarray, limits: DataQuality) -> np.ndarray:
    """True for each symbol (a row of closes) that may hold a spike: `_spikes` decides, exactly, for those alone."""
    if close.shape[1] < 5:
        return np.ones(len(close), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = np.diff(np.log(close), axis=1)
        centre = np.median(returns, axis=1, keepdims=True)
        scale = 1.4826 * np.median(np.abs(returns - centre), axis=1, keepdims=True)
        z = np.abs(returns[:, :-1] - centre) / scale
        now, after = returns[:, :-1], returns[:, 1:]
        reverts = (np.sign(after) == -np.sign(now)) & (np.abs(after) >= REVERT_SHARE * np.abs(now))
        near = (z > limits.spike_sigmas * 0.999) & reverts  # a margin for rounding: a near miss is checked exactly
    unsure = ~np.isfinite(returns).all(axis=1) | ~(scale[:, 0] > 0)  # a bad close or a flat market: check exactly
    return near.any(axis=1) | unsure


def _symbol_prices(
    found: _Found, symbol: str, stamps: np.ndarray, values: dict[str, np.ndarray], limits: DataQuality
) -> None:
    open_, high, low, close, volume = (values[name] for name in FIELDS)
    prices = np.column_stack([open_, high, low, close])
    with np.errstate(invalid="ignore"):
        broken = ~np.isfinite(prices).all(axis=1) | (prices <= 0).any(axis=1) | (prices > MAX_PRICE).any(axis=1)
        broken |= (high < np.maximum(open_, close)) | (low > np.minimum(open_, close)) | (high < low)
        broken |= ~np.isfinite(volume) | (volume < 0)
    rows = np.flatnonzero(broken)
    details = [_ohlc_text(values, i) for i in rows[:MAX_WHERE]]
    found.add("ohlc_errors", len(rows), symbol, stamps, rows, details)
    _spikes(found, symbol, stamps, close, limits.spike_sigmas)
    identical = (np.diff(prices, axis=0) == 0).all(axis=1)  # bar i + 1 repeats bar i
    starts, lengths = _runs(identical)
    long_enough = lengths + 1 >= limits.stale_run_bars
    starts, lengths = starts[long_enough], lengths[long_enough]
    details = [f"{int(n) + 1} identical bars from here" for n in lengths[:MAX_WHERE]]
    found.add("stale_runs", len(starts), symbol, stamps, starts, details)
    starts, lengths = _runs(volume == 0)
    long_enough = lengths >= limits.zero_volume_run_bars
    starts, lengths = starts[long_enough], lengths[long_enough]
    details = [f"{int(n)} bars of zero volume from here" for n in lengths[:MAX_WHERE]]
    found.add("zero_volume_runs", len(starts), symbol, stamps, starts, details)


def _spikes(found: _Found, symbol: str, stamps: np.ndarray, close: np.ndarray, sigmas: float) -> None:
    with np.errstate(invalid="ignore", divide="ignore"):
        returns = np.diff(np.log(np.where((close > 0) & (close <= MAX_PRICE), close, np.nan)))
    finite = returns[np.isfinite(returns)]
    if len(finite) < 3:
        return
    centre = float(np.median(finite))
    scale = 1.4826 * float(np.median(np.abs(finite - centre)))
    if scale == 0:  # over half the returns are zero (an illiquid market): fall back to the mean absolute deviation
        scale = 1.2533 * float(np.mean(np.abs(finite - centre)))
    if scale == 0:
        return
    with np.errstate(invalid="ignore"):
        z = (returns - centre) / scale
        now, after = returns[:-1], returns[1:]
        reverts = (np.sign(after) == -np.sign(now)) & (np.abs(after) >= REVERT_SHARE * np.abs(now))
        spike = (np.abs(z[:-1]) > sigmas) & reverts
    rows = np.flatnonzero(spike) + 1  # the bar whose close jumped
    details = [f"close {close[i]:.6g} between {close[i - 1]:.6g} and {close[i + 1]:.6g}" for i in rows[:MAX_WHERE]]
    details = [f"{text}, robust z {z[i - 1]:+.1f}" for text, i in zip(details, rows[:MAX_WHERE], strict=True)]
    found.add("spikes", len(rows), symbol, stamps, rows, details)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the start and length of every run of True in a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    return starts, np.flatnonzero(edges == -1) - starts


def _weekday(stamps: np.ndarray) -> np.ndarray:
    """Return Monday=0 .. Sunday=6 of datetime64 stamps (1970-01-01 was a Thursday)."""
    return (stamps.astype("datetime64[D]").astype("int64") + 3) % 7


def _ohlc_text(values: dict[str, np.ndarray], row: int) -> str:
    return " ".join(f"{name[0].upper()}={values[name][row]:.6g}" for name in FIELDS)


def _iso(stamp: np.datetime64) -> str:
    return str(pd.Timestamp(stamp).isoformat())
