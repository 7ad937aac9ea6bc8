"""`tradeops strategies`: every strategy with its parameters, ranges, defaults and descriptions."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeops.cli.options import AsJson, emit_json


def describe() -> list[dict[str, Any]]:
    """Each strategy's name, description and parameters (type, default, range, step, description)."""
    from tradeops.strategies import STRATEGIES

    described = []
    for strategy in STRATEGIES.values():
        schema = strategy.Params.model_json_schema()
        params = [
            {
                "name": name,
                "type": spec.get("type") or "/".join(str(a.get("type")) for a in spec.get("anyOf", [])),
                "default": spec.get("default"),
                "minimum": spec.get("minimum", spec.get("exclusiveMinimum")),
                "maximum": spec.get("maximum", spec.get("exclusiveMaximum")),
                "step": spec.get("step"),
                "description": spec.get("description", ""),
            }
            for name, spec in schema.get("properties", {}).items()
        ]
        described.append({"name": strategy.name, "description": strategy.description, "params": params})
    return described


def strategies(as_json: AsJson = False) -> None:
    """List the strategies and their parameters."""
    described = describe()
    if as_json:
        emit_json(described)
        return
    console = Console()
    for strategy in described:
        table = Table(title=escape(f"{strategy['name']}: {strategy['description']}"), title_justify="left")
        for column in ("parameter", "type", "default", "range", "step", "description"):
            table.add_column(column)
        for p in strategy["params"]:
            low, high = ("" if p[k] is None else p[k] for k in ("minimum", "maximum"))
            span = f"{low}..{high}"
            cells = (
                p["name"],
                p["type"],
                p["default"],
                span,
                p["step"] if p["step"] is not None else "",
                p["description"],
            )
            table.add_row(*(escape(str(c)) for c in cells))
        console.print(table)
