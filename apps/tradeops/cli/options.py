"""Option types and parsers shared by the commands."""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

from tradeops.engine.settings import Direction, ExecutionSettings, Sizing
from tradeops.errors import ConfigError

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from tradeops.data.bars import Bars
    from tradeops.trader.risk import RiskLimits

Strategy = Annotated[str, typer.Option("--strategy", "-s", help="strategy name, e.g. sma_cross")]
Params = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="parameter as NAME=VALUE; repeat per parameter")
]
Data = Annotated[
    str,
    typer.Option(
        "--data",
        "-d",
        help="CSV/Parquet path, dataset:NAME[@VERSION], or sample:GOOG, sample:EURUSD, sample:synthetic?symbols=5",
    ),
]
Start = Annotated[str | None, typer.Option("--start", help="first bar used (ISO-8601, UTC), e.g. 2024-01-01")]
End = Annotated[str | None, typer.Option("--end", help="last bar used (ISO-8601, UTC), e.g. 2024-06-30T23:00")]
MaxGap = Annotated[str | None, typer.Option("--max-gap", help="reject holes in the timeline wider than this, e.g. 7D")]
AsJson = Annotated[bool, typer.Option("--json", help="print one JSON object instead of a table")]
Cash = Annotated[float | None, typer.Option("--cash", help="initial cash (default: 10000)")]
Commission = Annotated[
    float | None, typer.Option("--commission", help="fee per fill, fraction of notional (default: 0)")
]
Slippage = Annotated[
    float | None, typer.Option("--slippage", help="adverse price move per fill, fraction (default: 0)")
]
SizingOpt = Annotated[Sizing | None, typer.Option("--sizing", help="all_in or fixed_fraction (default: all_in)")]
Fraction = Annotated[float | None, typer.Option("--fraction", help="share of cash per entry with fixed_fraction")]
DirectionOpt = Annotated[
    Direction | None, typer.Option("--direction", help="long_only, long_short or short_only (default: long_only)")
]
LotSize = Annotated[
    float | None,
    typer.Option(
        "--lot-size",
        min=0,
        help="amount step of an order: 1 = whole units, 0.00001 for BTC, 0 = any fraction "
        "(default: the market's; fractional for crypto, whole for equities)",
    ),
]
MinSize = Annotated[
    float | None,
    typer.Option("--min-size", min=0, help="smallest amount an entry may have (default: the market's, else none)"),
]


def check_report_path(path: Path | None) -> Path | None:
    """Refuse a `--report` we could not write, before any work: not .html, a directory, or under a file."""
    if path is None:
        return None
    if path.is_dir():
        raise ConfigError(f"--report {path}: is a directory; name an .html file in it, e.g. {path / 'report.html'}")
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--report {path}: reports are HTML; name a file ending in .html")
    parent = next((folder for folder in path.parents if folder.exists()), Path("."))
    if not parent.is_dir():
        raise ConfigError(f"--report {path}: {parent} is a file, not a folder")
    return path


def report_option(help: str) -> Any:
    """The `--report FILE.html` option, checked when the command line is read (see check_report_path)."""
    return typer.Option("--report", help=help, callback=check_report_path)


Report = Annotated[Path | None, report_option("write a self-contained HTML report here")]


def _claimable_actor(value: str | None) -> str | None:
    from tradeops.actors import claimable

    return None if value is None else claimable(value)


# every command that lets a person name who acts takes this one option: reserved names are refused as it is parsed
Actor = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="who acts, a name of your own (default: user@host); token:, mcp:, ui:, slack:, github:, local: "
        "are reserved for authenticated callers",
        callback=_claimable_actor,
    ),
]

Command = TypeVar("Command", bound=Callable[..., Any])


@dataclass(frozen=True)
class ExecutionOptions:
    """The execution options given on the command line (None: not given, the base or default applies)."""

    cash: float | None = None
    commission: float | None = None
    slippage: float | None = None
    sizing: Sizing | None = None
    fraction: float | None = None
    direction: Direction | None = None
    lot_size: float | None = None
    min_size: float | None = None

    def settings(self, base: ExecutionSettings | None = None) -> ExecutionSettings:
        """The settings these options give laid over `base` (or the defaults)."""
        return execution_settings(base, **self.given())

    def given(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


GIVEN_NONE = ExecutionOptions()  # the default of a command's `execution` parameter (the decorator always passes it)

EXECUTION_OPTIONS: dict[str, Any] = {
    "cash": Cash,
    "commission": Commission,
    "slippage": Slippage,
    "sizing": SizingOpt,
    "fraction": Fraction,
    "direction": DirectionOpt,
    "lot_size": LotSize,
    "min_size": MinSize,
}


def execution_options(*names: str) -> Callable[[Command], Command]:
    """Give a command the execution options (all of them, or those named) as one `execution: ExecutionOptions`.

    The options are declared once, here; the command declares a parameter `execution` and receives them
    together, so every command spells, documents and validates them the same way.
    """
    chosen = names or tuple(EXECUTION_OPTIONS)
    unknown = set(chosen) - set(EXECUTION_OPTIONS)
    if unknown:
        raise ValueError(f"unknown execution options: {sorted(unknown)}")
    options = {name: EXECUTION_OPTIONS[name] for name in chosen}
    return _grouped("execution", options, lambda given: ExecutionOptions(**given))


def _grouped(
    parameter: str, options: dict[str, Any], build: Callable[[dict[str, Any]], Any]
) -> Callable[[Command], Command]:
    """Replace a command's `parameter` by keyword options (name -> Annotated type, default None); the command
    receives `build(values given to them)` as `parameter`."""

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        if parameter not in signature.parameters:
            raise TypeError(f"{command.__name__} must take a parameter `{parameter}`")
        kept = [p for p in signature.parameters.values() if p.name != parameter]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
            for name, option in options.items()
        ]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = build({name: kwargs.pop(name) for name in options})
            return command(*args, **{parameter: values}, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


@dataclass(frozen=True)
class RiskOptions:
    """The risk limits given on the command line; a limit not given keeps the base's value."""

    given: dict[str, Any] = field(default_factory=dict)

    def limits(self, base: RiskLimits | None = None) -> RiskLimits:
        """These limits laid over `base` (or no limits); a ConfigError names a bad one (exit 2)."""
        from pydantic import ValidationError

        from tradeops.errors import format_validation
        from tradeops.trader.risk import RiskLimits

        base = base or RiskLimits()
        try:
            return type(base).model_validate(base.model_dump() | self.given)
        except ValidationError as error:
            raise ConfigError(f"invalid risk limits: {format_validation(error)}") from error


NO_RISK_GIVEN = RiskOptions()  # the default of a command's `risk` parameter (the decorator always passes it)


def risk_options(model: type[RiskLimits] | None = None) -> Callable[[Command], Command]:
    """Give a command one option per field of RiskLimits (or `model`), received together as `risk: RiskOptions`.

    Each option is generated from its field: `max_drawdown_pct` -> `--max-drawdown-pct` with the field's
    type and description, a bool `--require-balance/--no-require-balance`; a field added to the model
    is an option of every command that takes them.
    """
    if model is None:
        from tradeops.trader.risk import RiskLimits

        model = RiskLimits
    options = {name: _model_option(name, info) for name, info in model.model_fields.items()}
    return _grouped("risk", options, lambda given: RiskOptions({k: v for k, v in given.items() if v is not None}))


def _model_option(name: str, info: FieldInfo) -> Any:
    kind = info.annotation
    flag = "--" + name.replace("_", "-")
    if kind is bool:
        flag = f"{flag}/--no-{flag[2:]}"
    default = info.get_default(call_default_factory=True)
    text = (info.description or name) + ("" if default is None else f" (default: {str(default).lower()})")
    return Annotated[kind | None, typer.Option(flag, help=text)]  # type: ignore[operator]


def parse_value(text: str) -> Any:
    """Read a command-line value as a YAML scalar: 10 -> int, 0.5 -> float; none/null/off -> None."""
    if text.strip().lower() in ("none", "null", "off"):
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_assignments(items: list[str] | None, what: str) -> dict[str, str]:
    """Split NAME=VALUE items; a ConfigError names the malformed one."""
    result: dict[str, str] = {}
    for item in items or []:
        raw_name, sep, raw_value = item.partition("=")
        name, value = raw_name.strip(), raw_value.strip()
        if not sep or not name or not value:
            raise ConfigError(f"{what} {item!r} must look like NAME=VALUE")
        if name in result:
            raise ConfigError(f"{what} {name} given twice ({name}={result[name]}, {name}={value}); give each name once")
        result[name] = value
    return result


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """Parse repeated --param NAME=VALUE."""
    return {name: parse_value(value) for name, value in parse_assignments(items, "--param").items()}


DASH_RANGE = re.compile(r"-?\d+(\.\d+)?\s*-\s*-?\d+(\.\d+)?")  # 5-50: a range in a syntax we do not take


def parse_grid(items: list[str] | None) -> dict[str, list[Any]]:
    """Parse repeated --grid NAME=START:STOP:STEP (stop included) or NAME=V1,V2,V3."""
    grid: dict[str, list[Any]] = {}
    for name, spec in parse_assignments(items, "--grid").items():
        if DASH_RANGE.fullmatch(spec):
            raise ConfigError(
                f"--grid {name}={spec}: a range is written {name}=START:STOP:STEP (e.g. {name}=5:50:5), "
                f"a list {name}=V1,V2,... (e.g. {name}=5,10,15)"
            )
        if "," in spec or ":" not in spec:
            grid[name] = [parse_value(v) for v in spec.split(",")]
            continue
        parts = [parse_value(v) for v in spec.split(":")]
        if len(parts) != 3 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in parts):
            raise ConfigError(f"--grid {name}={spec!r} must be START:STOP:STEP with numbers, or V1,V2,...")
        start, stop, step = parts
        if step <= 0 or stop < start:
            raise ConfigError(f"--grid {name}={spec!r}: need STEP > 0 and STOP >= START")
        count = math.floor((stop - start) / step + 1e-9) + 1
        values = [start + i * step for i in range(count)]
        grid[name] = values if all(isinstance(v, int) for v in parts) else [round(v, 10) for v in values]
    if not grid:
        raise ConfigError("give at least one --grid NAME=START:STOP:STEP")
    return grid


def execution_settings(base: ExecutionSettings | None = None, **given: Any) -> ExecutionSettings:
    """Return settings with the options that were given (not None) laid over `base` or the defaults."""
    from pydantic import ValidationError

    from tradeops.errors import format_validation

    values = (base or ExecutionSettings()).model_dump() | {k: v for k, v in given.items() if v is not None}
    if values["sizing"] == Sizing.ALL_IN and given.get("fraction") is None:
        values["fraction"] = 1.0  # switching a fixed_fraction base to all_in drops its fraction
    try:
        return ExecutionSettings.model_validate(values)
    except ValidationError as error:
        raise ConfigError(f"invalid execution settings: {format_validation(error)}") from error


def emit_json(payload: Any, out: Path | None = None) -> None:
    """Print JSON to stdout, or write it atomically to `out`."""
    emit_text(json.dumps(payload, indent=2, allow_nan=False, default=str), out)


def emit_text(text: str, out: Path | None = None) -> None:
    """Print JSON text serialised elsewhere (a backtest result: `result_json`), or write it atomically to `out`."""
    if out is None:
        sys.stdout.write(text + "\n")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(out)


def plain_console(*, stderr: bool = False) -> Console:
    """A console that prints text as given: user text (paths, reasons, names) is never read as markup or emoji."""
    return Console(stderr=stderr, soft_wrap=True, markup=False, emoji=False, highlight=False)


def warn_skipped(skipped: float, bars: Bars, settings: ExecutionSettings) -> None:
    """Say on stderr, in one line, that entry signals could not be executed (cash below one lot or the minimum)."""
    from tradeops.engine.sizing import skipped_warning

    line = skipped_warning(skipped, bars, settings)
    if line is not None:
        plain_console(stderr=True).print(f"warning: {line}")


def warn_short_window(strategy: str, params: dict[str, Any], bars: Bars) -> None:
    """Say on stderr, in one line, that the bars are fewer than the strategy's warm-up (no trade can happen)."""
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import warmup_bars

    chosen = get_strategy(strategy)
    needed = warmup_bars(chosen, chosen.Params.model_validate(params))
    if needed is not None and bars.n_bars <= needed:
        shown = " ".join(f"{name}={value}" for name, value in params.items())
        plain_console(stderr=True).print(
            f"warning: {bars.name} has {bars.n_bars} bar(s) in this window, but {strategy} ({shown}) needs a warm-up "
            f"of {needed} bars before its first signal: no trade can happen; widen --start/--end or shorten the windows"
        )


def progress_bar(transient: bool) -> Progress:
    """The progress bar of long commands, on stderr (gone when done if `transient`, e.g. with --json)."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(emoji=False, stderr=True, soft_wrap=True),
        transient=transient,
    )
