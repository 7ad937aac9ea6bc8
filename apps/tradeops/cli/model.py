"""`tradeops model train|list|show`: ml_classifier model versions in the object store."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeops.cli.options import (
    GIVEN_NONE,
    AsJson,
    Data,
    ExecutionOptions,
    MaxGap,
    Params,
    emit_json,
    execution_options,
    parse_assignments,
    parse_params,
    parse_value,
    plain_console,
)
from tradeops.data import load_bars
from tradeops.data.bars import Bars
from tradeops.errors import DataError
from tradeops.gate.thresholds import Thresholds
from tradeops.models import ModelCard, default_registry

app = typer.Typer(help="Train, list and show ml_classifier model versions.", no_args_is_help=True)
stderr = plain_console(stderr=True)


def _until(bars: Bars, until: str | None) -> Bars:
    if until is None:
        return bars
    try:
        cut = pd.Timestamp(until)
    except ValueError as error:
        raise DataError(f"--until {until!r} is not a date or timestamp") from error
    if cut.tzinfo is not None:  # timelines are naive UTC
        cut = cut.tz_convert("UTC").tz_localize(None)
    count = int(bars.index.searchsorted(cut, side="right"))
    if count == 0:
        raise DataError(f"--until {until}: {bars.name} starts later, at {bars.index[0]}")
    return bars.head(count)


def _card_json(card: ModelCard) -> dict[str, object]:
    return card.model_dump(mode="json")


@app.command("train")
@execution_options("cash", "commission", "slippage", "direction", "lot_size", "min_size")
def train(
    data: Data,
    param: Params = None,
    until: Annotated[
        str | None, typer.Option("--until", help="train on bars up to this date only, e.g. 2010-12-31")
    ] = None,
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", "-t", help="gate threshold NAME=VALUE, as in `tradeops gate`")
    ] = None,
    as_json: AsJson = False,
    execution: ExecutionOptions = GIVEN_NONE,
    max_gap: MaxGap = None,
) -> None:
    """Fit a new version on the data, validate it walk-forward, gate it; exit with the gate's code."""
    from tradeops.models.training import train_version

    overrides = {name: parse_value(value) for name, value in parse_assignments(threshold, "--threshold").items()}
    thresholds = Thresholds().with_overrides(overrides)
    settings = execution.settings()
    bars = _until(load_bars(data, max_gap=max_gap), until)
    card, verdict = train_version(default_registry(), bars, parse_params(param), settings, thresholds)
    if as_json:
        emit_json(_card_json(card))
    else:
        _show(card)
    raise typer.Exit(verdict.exit_code)


@app.command("list")
def list_versions(as_json: AsJson = False) -> None:
    """Every stored version, oldest first: data, last bar seen, walk-forward accuracy, gate outcome."""
    registry = default_registry()
    cards = [registry.card(version) for version in registry.versions()]
    if as_json:
        emit_json({"store": registry.objects.url, "versions": [_card_json(c) for c in cards]})
        return
    table = Table(title=f"model versions in {escape(registry.objects.url)}")
    table.add_column("version", no_wrap=True, min_width=25)
    for column in ("data", "up to", "oos acc", "gate"):
        table.add_column(column)
    for card in cards:
        table.add_row(
            card.version,
            escape(card.training.data),
            card.training.last_seen.date().isoformat(),
            _rate(card.validation["accuracy"]),
            _gate_word(card),
        )
    Console(emoji=False).print(table)


@app.command("show")
def show(
    version: Annotated[str, typer.Argument(help="a version from `tradeops model list`")], as_json: AsJson = False
) -> None:
    """One version's card: training window, features, libraries, validation, parameters, gate."""
    card = default_registry().card(version)
    if as_json:
        emit_json(_card_json(card))
        return
    _show(card)


def _rate(value: float | int | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _gate_word(card: ModelCard) -> str:
    if card.gate["error"] is not None:
        return "[yellow]undecided[/]"
    return "[green]passed[/]" if card.gate["passed"] else "[red]failed[/]"


def _show(card: ModelCard) -> None:
    console = Console(emoji=False)
    window = card.training
    console.print(f"[bold]model {card.version}[/] ({card.strategy}), sha256 {card.sha256[:16]}...", highlight=False)
    console.print(
        f"trained on {escape(window.data)} {', '.join(window.symbols)}: rows {window.first_row.date()} to "
        f"{window.last_row.date()} ({window.rows}), labels seen up to {window.last_seen}",
        highlight=False,
    )
    console.print(f"features ({card.feature_hash[:19]}...): {', '.join(card.features)}", highlight=False)
    console.print(f"libraries: {', '.join(f'{k} {v}' for k, v in card.libraries.items())}", highlight=False)
    console.print(f"params: {card.params}", highlight=False)
    validation = ", ".join(f"{k} {_rate(v) if isinstance(v, float) else v}" for k, v in card.validation.items())
    console.print(f"walk-forward validation: {validation}", highlight=False)
    gate = f"gate: {_gate_word(card)}"
    if card.gate["error"]:
        gate += f" ({escape(card.gate['error'])})"
    failed = [c["name"] for c in card.gate["checks"] if not c["passed"]]
    if failed:
        gate += f"; failed: {', '.join(failed)}"
    console.print(gate)
