"""Fetch OHLCV bars from a venue through ccxt into a dataset: incremental, closed candles only, retried.

ccxt does the HTTP, the venue's wire format and the rate limiting (`enableRateLimit`), opened and
retried by `tradeops.venues.client` (the venue broker's client too: network errors, 5xx and 429s
backed off, a Retry-After honoured, within each request's deadline); this module pages through
`fetch_ohlcv(since, limit)`, drops the still-forming candle, validates with the loader's rules and
writes one new version, or nothing at all when any symbol fails (the previous version stays the latest).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from tradeops.data.bars import FIELDS
from tradeops.data.datasets import DatasetRef, DatasetStore, Manifest, MarketUnits, check_name
from tradeops.data.load import frame_to_bars
from tradeops.data.quality import check_frames
from tradeops.data.timeframes import find_gaps, timeframe_seconds
from tradeops.errors import DataError
from tradeops.venues.client import Deadline, Wait, retrying
from tradeops.venues.client import open_exchange as open_exchange  # where `data fetch` callers find it

T = TypeVar("T")


@dataclass(frozen=True)
class FetchPolicy:
    """How hard to try: attempts per request, backoff (doubling, capped), page size, the deadline of one HTTP
    request and of one request's every try, and who hears of each wait."""

    attempts: int = 6
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    page_limit: int = 1000
    timeout_ms: int = 15_000
    deadline_seconds: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    on_wait: Callable[[Wait], None] | None = None

    @property
    def deadline(self) -> Deadline:
        """The venue client's retry policy for one request."""
        return Deadline(
            request_seconds=self.timeout_ms / 1000,
            order_seconds=self.deadline_seconds,
            backoff_seconds=self.backoff_seconds,
            max_backoff_seconds=self.max_backoff_seconds,
            attempts=self.attempts,
        )


@dataclass
class SymbolReport:
    """What one symbol's fetch brought."""

    symbol: str
    new_bars: int = 0
    pages: int = 0
    retries: int = 0
    forming_dropped: int = 0
    duplicates_dropped: int = 0
    missing_bars: int = 0
    gaps: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FetchReport:
    """What a fetch stored: the version (new or unchanged) and per-symbol details."""

    manifest: Manifest
    created: bool
    symbols: list[SymbolReport]


def _retrying(what: str, call: Callable[[], T], policy: FetchPolicy, report: SymbolReport | None) -> T:
    import ccxt

    def waited(wait: Wait) -> None:
        if report is not None:
            report.retries += 1
        if policy.on_wait is not None:
            policy.on_wait(wait)

    try:
        return retrying(what, call, policy.deadline, on_wait=waited, failure=DataError, sleep=policy.sleep)
    except ccxt.BaseError as error:  # the venue refused the request itself: trying again cannot help
        raise DataError(f"{what}: {type(error).__name__}: {error}") from None


def _server_time(exchange: Any, policy: FetchPolicy) -> int:
    if exchange.has.get("fetchTime"):
        return int(_retrying(f"{exchange.id} time", exchange.fetch_time, policy, None))
    return int(exchange.milliseconds())


def _fetch_symbol(
    exchange: Any, symbol: str, timeframe: str, since_ms: int, until_ms: int, policy: FetchPolicy
) -> tuple[pd.DataFrame, SymbolReport]:
    """Page from `since_ms` to `until_ms` (exclusive of candles closing after it)."""
    step_ms = timeframe_seconds(timeframe) * 1000
    report = SymbolReport(symbol)
    rows: list[list[float]] = []
    cursor = since_ms
    while cursor + step_ms <= until_ms:
        page: list[list[float]] = _retrying(
            f"{exchange.id} {symbol} {timeframe} from {pd.Timestamp(cursor, unit='ms')}",
            functools.partial(exchange.fetch_ohlcv, symbol, timeframe, since=cursor, limit=policy.page_limit),
            policy,
            report,
        )
        report.pages += 1
        page = [row for row in page if row[0] >= cursor]
        if not page:
            break
        rows += page
        cursor = int(page[-1][0]) + step_ms
    closed = [row for row in rows if row[0] + step_ms <= until_ms]
    report.forming_dropped = len(rows) - len(closed)
    frame = pd.DataFrame(closed, columns=["timestamp", *FIELDS])
    before = len(frame)
    frame = frame.drop_duplicates(ignore_index=True)
    report.duplicates_dropped = before - len(frame)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms")
    return frame, report


def _validated(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check with the loader's rules (a conflicting duplicate, high < low, ...); the error names source and time."""
    if frame.empty:
        return frame
    bars = frame_to_bars(frame, source=source)
    return frame.assign(**{name: getattr(bars, name)[:, 0] for name in FIELDS})


def fetch_dataset(
    store: DatasetStore,
    exchange: Any,
    *,
    dataset: str,
    symbols: list[str],
    timeframe: str,
    since: datetime | None = None,
    until: datetime | None = None,
    policy: FetchPolicy | None = None,
) -> FetchReport:
    """Fetch the bars after the latest stored version (or from `since`) and store them as a new version."""
    policy = policy or FetchPolicy()
    check_name(dataset)
    if timeframe not in (exchange.timeframes or {}):
        raise DataError(f"--timeframe {timeframe}: {exchange.id} offers {', '.join(exchange.timeframes or {})}")
    _retrying(f"{exchange.id} markets", exchange.load_markets, policy, None)
    unknown = [s for s in symbols if s not in exchange.markets]
    if unknown:
        raise DataError(
            f"{exchange.id} has no market {', '.join(unknown)} (e.g. {', '.join(list(exchange.markets)[:5])})"
        )
    previous = _previous(store, dataset, timeframe)
    now_ms = _server_time(exchange, policy)
    until_ms = min(now_ms, int(pd.Timestamp(until).value // 1_000_000)) if until else now_ms
    frames, reports = {}, []
    for symbol in symbols:
        old = previous.get(symbol)
        start = _start_ms(old, since, symbol, timeframe)
        new, report = _fetch_symbol(exchange, symbol, timeframe, start, until_ms, policy)
        new = _validated(new, f"{exchange.id} {symbol} {timeframe}")
        report.new_bars = len(new)
        combined = new if old is None else pd.concat([old, new], ignore_index=True)
        report.missing_bars, report.gaps = find_gaps(combined["timestamp"].to_numpy(dtype="datetime64[ns]"), timeframe)
        frames[symbol] = combined
        reports.append(report)
    frames |= {symbol: frame for symbol, frame in previous.items() if symbol not in frames}
    if any(frame.empty for frame in frames.values()):
        empty = [symbol for symbol, frame in frames.items() if frame.empty]
        raise DataError(f"{exchange.id}: no closed {timeframe} bars for {', '.join(empty)} in the range asked")
    source = f"ccxt:{exchange.id}"
    quality = check_frames(frames, timeframe=timeframe).to_dict()  # recorded, with the default thresholds
    units = {symbol: market_units(exchange, symbol) for symbol in frames if symbol in exchange.markets}
    manifest, created = store.write(dataset, frames, timeframe=timeframe, source=source, quality=quality, units=units)
    return FetchReport(manifest, created, reports)


def market_units(exchange: Any, symbol: str) -> MarketUnits:
    """The market's amount step and minimum as ccxt knows them (`precision.amount`, `limits.amount.min`).

    ccxt gives the precision as a step (TICK_SIZE mode, e.g. 1e-05) or as decimal places (DECIMAL_PLACES,
    e.g. 5); significant digits say nothing about a step and record none.
    """
    import ccxt

    market = exchange.markets[symbol]
    precision = (market.get("precision") or {}).get("amount")
    minimum = ((market.get("limits") or {}).get("amount") or {}).get("min")
    lot: float | None = None
    if precision is not None:
        mode = getattr(exchange, "precisionMode", ccxt.TICK_SIZE)
        if mode == ccxt.TICK_SIZE:
            lot = float(precision)
        elif mode == ccxt.DECIMAL_PLACES:
            lot = 10.0 ** -int(precision)
    return MarketUnits(lot_size=lot, min_size=float(minimum) if minimum is not None else None)


def _previous(store: DatasetStore, dataset: str, timeframe: str) -> dict[str, pd.DataFrame]:
    if dataset not in store.names():
        return {}
    manifest = store.manifest(DatasetRef(dataset))
    if manifest.timeframe != timeframe:
        raise DataError(f"dataset {dataset} holds {manifest.timeframe} bars; cannot add {timeframe} bars to it")
    frame = store.read(manifest)
    return {str(s): part.drop(columns="symbol").reset_index(drop=True) for s, part in frame.groupby("symbol")}


def _start_ms(old: pd.DataFrame | None, since: datetime | None, symbol: str, timeframe: str) -> int:
    if old is not None and not old.empty:
        return int(pd.Timestamp(old["timestamp"].iloc[-1]).value // 1_000_000) + timeframe_seconds(timeframe) * 1000
    if since is None:
        raise DataError(f"{symbol}: the first fetch of a dataset needs --since (e.g. --since 2024-01-01)")
    stamp = pd.Timestamp(since)
    stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
    return int(stamp.value // 1_000_000)
