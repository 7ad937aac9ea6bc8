"""`tradeops data import|fetch|list|show|check`: market data as named, versioned datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from tradeops.data.datasets import DatasetStore, Manifest
    from tradeops.data.quality import QualityReport

app = typer.Typer(help="Market data: import, fetch, list, show and check versioned datasets.", no_args_is_help=True)

DatasetName = Annotated[str, typer.Option("--dataset", help="dataset name, e.g. binance-btcusdt-1h")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
SYMBOLS_NAMED = 10  # a version of more symbols is shown as their number, first and last (`data show --json` lists all)


def _console() -> Console:
    return Console(soft_wrap=True, markup=False, emoji=False, highlight=False)


def _datasets() -> DatasetStore:
    from tradeops.data.datasets import open_datasets

    return open_datasets()


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV (.csv, .csv.gz) or Parquet file of OHLCV bars")],
    dataset: DatasetName,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="symbol of a one-symbol file (default: file name)")
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="bar length, e.g. 1m, 1h, 1d (default: inferred)")
    ] = None,
    time_unit: Annotated[
        str | None,
        typer.Option("--time-unit", help="epoch unit of numeric timestamps: s, ms, us or ns (default: detected)"),
    ] = None,
    lot_size: Annotated[
        float | None,
        typer.Option("--lot-size", min=0, help="the market's amount step: 1 = whole units, 0.00001 for BTC, 0 = any"),
    ] = None,
    min_size: Annotated[
        float | None, typer.Option("--min-size", min=0, help="the market's smallest order amount, e.g. 0.00001")
    ] = None,
) -> None:
    """Validate a file and store it as a new version of a dataset (ISO or epoch times).

    --lot-size and --min-size record the market's units: backtests of the dataset size orders to them.
    """
    from tradeops.data.datasets import MarketUnits
    from tradeops.data.imports import UNIT_NAMES, import_file
    from tradeops.errors import DataError

    if time_unit is not None and time_unit not in UNIT_NAMES:
        raise DataError(f"--time-unit {time_unit!r}: use s, ms, us or ns")
    given = lot_size is not None or min_size is not None
    imported = import_file(
        _datasets(),
        file,
        dataset=dataset,
        symbol=symbol,
        timeframe=timeframe,
        time_unit=time_unit,  # type: ignore[arg-type]
        units=MarketUnits(lot_size=lot_size, min_size=min_size) if given else None,
    )
    out = _console()
    out.print(f"timestamps: {imported.time_reading}")
    _print_stored(out, imported.manifest, imported.created)


def _print_stored(out: Console, manifest: Manifest, created: bool) -> None:
    state = "new version" if created else "unchanged: the same bars are already version"
    out.print(f"{manifest.dataset}: {state} {manifest.version} ({manifest.ref})")
    out.print(
        f"  {manifest.bars:,} bars of {manifest.timeframe}, {_symbols_text(manifest.symbols)}, "
        f"{manifest.first} .. {manifest.last}"
    )
    out.print(f"  gaps: {gap_summary(manifest)}")


def _symbols_text(symbols: list[str]) -> str:
    """The symbols by name, or their number and the first and last of them when there are many."""
    if len(symbols) <= SYMBOLS_NAMED:
        return ", ".join(symbols)
    return f"{len(symbols):,} symbols ({symbols[0]} .. {symbols[-1]})"


def gap_summary(manifest: Manifest) -> str:
    """One line however many symbols and gaps: the count, the largest and where the full list is."""
    gaps = manifest.gaps
    missing = gaps["missing_bars"]
    if not missing:
        return "0 missing bars"
    symbols = gaps["symbols"]
    if "count" in gaps:
        count, largest = f"{gaps['count']:,}", gaps["largest"]
    else:  # a version stored before the summary lists each symbol's first gaps instead
        listed = [{"symbol": symbol, **gap} for symbol, found in symbols.items() for gap in found["gaps"]]
        count, largest = f"{len(listed):,} listed", max(listed, key=lambda gap: gap["missing"], default=None)
    text = f"{missing:,} missing bar(s) in {count} gap(s) across {len(symbols):,} symbol(s) (reported, not filled)"
    if largest:
        text += f"; largest: {largest['symbol']} {largest['missing']:,} bar(s) missing after {largest['after']}"
    return text + f"; every gap: `tradeops data show {manifest.dataset}@{manifest.version} --gaps`"


@app.command("list")
def list_command(as_json: AsJson = False) -> None:
    """List the datasets and their versions (newest last)."""
    store = _datasets()
    listing = {name: [_summary(m) for m in store.versions(name)] for name in store.names()}
    if as_json:
        typer.echo(json.dumps(listing, indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)  # one space between columns
    for column in ("dataset", "version", "tf", "symbols", "first", "last", "bars", "gaps", "size"):
        whole = column not in ("symbols", "first", "last")  # short or needed whole (`data show NAME@VERSION`)
        wide = 10 if column in ("first", "last") else None  # a whole date
        table.add_column(column, no_wrap=whole, overflow="fold", min_width=wide)  # the others wrap to fit
    for name, versions in listing.items():
        for item in versions:
            table.add_row(
                name,
                item["version"],
                item["timeframe"],
                ", ".join(item["symbols"]),
                _moment(item["first"]),
                _moment(item["last"]),
                f"{item['bars']:,}",
                str(item["missing_bars"]),
                _size(item["bytes"]),
            )
    out = Console(markup=False, emoji=False, highlight=False)  # the terminal's width: long cells wrap
    out.print(table if listing else "no datasets yet: `tradeops data import FILE --dataset NAME` or `data fetch`")


def _size(count: int) -> str:
    """Bytes in the unit that keeps the number short: 14 kB, 3.2 MB (`--json` has the exact count)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.2g} {unit}" if count < 10 * scale else f"{count / scale:.0f} {unit}"
    return f"{count} B"


def _moment(iso: str) -> str:
    """A bar time as a reader scans it: the date alone at midnight, else date and minutes (`--json` has it whole)."""
    day, _, time = iso.partition("T")
    return day if time[:5] in ("", "00:00") else f"{day} {time[:5]}"


def _summary(manifest: Manifest) -> dict[str, Any]:
    return {
        "ref": manifest.ref,
        "version": manifest.version,
        "sha256": manifest.sha256,
        "created_at": manifest.created_at,
        "timeframe": manifest.timeframe,
        "symbols": manifest.symbols,
        "first": manifest.first,
        "last": manifest.last,
        "bars": manifest.bars,
        "missing_bars": manifest.gaps["missing_bars"],
        "bytes": manifest.size,
        "source": manifest.source,
    }


@app.command("show")
def show_command(
    reference: Annotated[str, typer.Argument(help="NAME (latest) or NAME@VERSION; a dataset: prefix is optional")],
    gaps: Annotated[
        bool, typer.Option("--gaps", help="list every gap of every symbol, read from the bars (after, before, missing)")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Show one version's manifest: span, bars, gaps, size, sha256 and its parts (--gaps: every gap)."""
    from tradeops.data.datasets import parse_ref

    store = _datasets()
    manifest = store.manifest(parse_ref(reference))
    if gaps:
        _print_gaps(store, manifest, as_json)
        return
    if as_json:
        typer.echo(json.dumps(manifest.model_dump(mode="json") | {"ref": manifest.ref}, indent=2))
        return
    out = _console()
    out.print(f"{manifest.ref}  (sha256 {manifest.sha256})")
    out.print(f"  source {manifest.source}, fetched {manifest.fetched_at}, created {manifest.created_at}")
    out.print(f"  {len(manifest.parts)} part(s), {manifest.size:,} bytes")
    _print_stored(out, manifest, created=True)
    _print_recorded_quality(out, manifest.quality)


def _print_gaps(store: DatasetStore, manifest: Manifest, as_json: bool) -> None:
    from tradeops.data.quality import split_symbols
    from tradeops.data.timeframes import find_gaps

    every = [
        {"symbol": symbol, **gap}
        for symbol, frame in split_symbols(store.read(manifest)).items()
        for gap in find_gaps(frame["timestamp"].to_numpy(), manifest.timeframe, limit=None)[1]
    ]
    if as_json:
        typer.echo(json.dumps({"ref": manifest.ref, "timeframe": manifest.timeframe, "gaps": every}, indent=2))
        return
    lines = [f"{gap['symbol']}\t{gap['after']}\t{gap['before']}\t{gap['missing']}" for gap in every]
    typer.echo("\n".join(["symbol\tafter\tbefore\tmissing", *lines]))  # tab-separated: one line per gap
    typer.echo(f"{manifest.ref}: {len(every):,} gap(s), {manifest.gaps['missing_bars']:,} missing bar(s)", err=True)


def _print_recorded_quality(out: Console, quality: dict[str, Any]) -> None:
    if not quality:
        out.print("  quality: not recorded (a version stored before the checks; run `tradeops data check`)")
        return
    state = "passed" if quality["passed"] else "FAILED"
    out.print(f"  quality at {quality['checked_at']} (default thresholds): {state}")
    for check in quality["checks"]:
        limit = "off" if check["limit"] is None else check["limit"]
        first = check["where"][0] if check["where"] else None
        place = f"  first: {first['symbol']} at {first['at']}, {first['detail']}" if first else ""
        out.print(f"    {check['name']}: {check['count']:,} (limit {limit}){place}")


@app.command("check")
def check_command(
    reference: Annotated[
        str, typer.Argument(help="NAME (latest) or NAME@VERSION; also sample:NAME or a CSV/Parquet file")
    ],
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", "-t", help="NAME=VALUE, e.g. max_missing_bars=10 or spike_sigmas=8; none: off"),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Check data quality: gaps, duplicate or backward bars, OHLC errors, future bars, spikes, stale and
    zero-volume runs; exit 0 clean, 1 a limit exceeded, 2 bad input."""
    report = _quality(reference, threshold or [])
    if as_json:
        typer.echo(json.dumps({"ref": reference, **report.to_dict()}, indent=2))
    else:
        _print_quality(_console(), reference, report)
    raise typer.Exit(0 if report.passed else 1)


def _quality(reference: str, thresholds: list[str]) -> QualityReport:
    from pydantic import ValidationError

    from tradeops.cli.options import parse_assignments, parse_value
    from tradeops.data.load import SAMPLE_PREFIX, load_bars
    from tradeops.data.quality import check_bars, check_frames, split_symbols
    from tradeops.data.quality_thresholds import DataQuality
    from tradeops.errors import ConfigError, format_validation

    overrides = {name: parse_value(value) for name, value in parse_assignments(thresholds, "--threshold").items()}
    try:
        limits = DataQuality.model_validate(DataQuality().model_dump() | overrides)
    except ValidationError as error:
        raise ConfigError(f"--threshold: {format_validation(error)}") from None
    if reference.startswith(SAMPLE_PREFIX) or Path(reference).suffix.lower() in (".csv", ".gz", ".parquet"):
        return check_bars(load_bars(reference), limits)
    from tradeops.data.datasets import parse_ref

    store = _datasets()
    manifest = store.manifest(parse_ref(reference))
    return check_frames(split_symbols(store.read(manifest)), limits, timeframe=manifest.timeframe)


def _print_quality(out: Console, reference: str, report: QualityReport) -> None:
    out.print(f"{reference}: timeframe {report.timeframe or 'unknown (gaps not checked)'}; market {report.calendar}")
    table = Table("check", "count", "limit", "result", "where (first)")
    for check in report.checks:
        first = check.where[0] if check.where else None
        table.add_row(
            check.name,
            f"{check.count:,}",
            "off" if check.limit is None else str(check.limit),
            "pass" if check.passed else "FAIL",
            f"{first['symbol']} {first['at']}: {first['detail']}" if first else "",
        )
    out.print(table)
    for check in report.failed:
        for place in check.where[1:]:
            out.print(f"  {check.name}: {place['symbol']} {place['at']}: {place['detail']}")
    out.print(("passed" if report.passed else f"FAILED: {report.summary()}") + f" (exit {0 if report.passed else 1})")


@app.command("fetch")
def fetch_command(
    exchange: Annotated[str, typer.Option("--exchange", help="ccxt exchange id, e.g. binance")],
    symbol: Annotated[list[str], typer.Option("--symbol", help="unified symbol BASE/QUOTE; repeat for more")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar length, e.g. 1m, 1h, 1d")],
    dataset: DatasetName,
    since: Annotated[str | None, typer.Option("--since", help="first bar of a new dataset (ISO-8601, UTC)")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="last bar to fetch (ISO-8601, UTC) (default: now)")
    ] = None,
) -> None:
    """Fetch closed bars through ccxt after the newest stored one; store them as a new version."""
    from tradeops.data.window import window_from_options

    window = window_from_options(since, until)
    _fetch_and_print(
        exchange, symbol, timeframe, dataset, window.start if window else None, window.end if window else None
    )


def _fetch_and_print(
    exchange_id: str, symbols: list[str], timeframe: str, dataset: str, since: Any, until: Any
) -> None:
    from tradeops.data.fetch import FetchPolicy, fetch_dataset, open_exchange
    from tradeops.settings import load_settings

    settings = load_settings()
    waits = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)
    policy = FetchPolicy(
        attempts=settings.fetch_attempts,
        backoff_seconds=settings.fetch_backoff_seconds,
        on_wait=lambda wait: waits.print(wait.describe()),  # e.g. "... retrying in 2s (RateLimitExceeded)"
    )
    exchange = open_exchange(exchange_id, base_url=settings.exchange_base_url, timeout_ms=policy.timeout_ms)
    report = fetch_dataset(
        _datasets(),
        exchange,
        dataset=dataset,
        symbols=symbols,
        timeframe=timeframe,
        since=since,
        until=until,
        policy=policy,
    )
    out = _console()
    for item in report.symbols:
        out.print(
            f"{item.symbol}: {item.new_bars:,} new closed bar(s) in {item.pages} page(s), {item.retries} retried "
            f"request(s); forming candle not stored: {item.forming_dropped}; repeated candles dropped: "
            f"{item.duplicates_dropped}; {item.missing_bars:,} missing bar(s) in the stored span"
        )
    _print_stored(out, report.manifest, report.created)


@app.command("sync")
def sync_command() -> None:
    """Fetch every dataset in TRADEOPS_MARKET_DATASETS (what the market-data CronJob runs); exit 2 if any failed."""
    from tradeops.errors import TradeopsError
    from tradeops.settings import load_settings

    failed = []
    for source in load_settings().market_datasets:
        try:
            _fetch_and_print(source.exchange, source.symbols, source.timeframe, source.dataset, source.since, None)
        except TradeopsError as error:
            failed.append(source.dataset)
            Console(stderr=True, markup=False, emoji=False, highlight=False).print(f"error: {error}")
    if failed:
        raise typer.Exit(2)
