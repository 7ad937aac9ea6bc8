"""A command group that imports a command's module only when that command runs.

The tree is declared up front as a table of name -> ("module:attr", help); `--help` lists the names
and the declared help without importing anything, and `tradeops <name> ...` imports the one module
it needs. The attribute is a `typer.Typer` (a command group) or a function (one command).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import typer
from typer._click import Command, Context, HelpFormatter  # typer vendors click: its classes, not click's
from typer.core import TyperCommand, TyperGroup

from tradeops.cli.panels import rank


@dataclass(frozen=True)
class LazyCommand:
    """One command of the tree: where its implementation lives and its one-line help."""

    name: str
    target: str  # "package.module:attribute"
    help: str
    panel: str | None = None  # the heading `--help` lists it under (None: "Commands")

    def load(self) -> Command:
        """Import the implementation and turn it into a command named `name`."""
        module_name, _, attribute = self.target.partition(":")
        implementation = getattr(importlib.import_module(module_name), attribute)
        if isinstance(implementation, typer.Typer):
            command: Command = typer.main.get_group(implementation)
        else:
            single = typer.Typer(add_completion=False)
            single.command(self.name)(implementation)
            command = typer.main.get_command(single)
        command.name = self.name
        command.rich_help_panel = self.panel  # type: ignore[attr-defined]
        return without_flag_types(command)


class CommandTable:
    """The declared commands, in the order `--help` lists them; plugins add theirs with `add`."""

    def __init__(self) -> None:
        self._commands: dict[str, LazyCommand] = {}

    def add(self, name: str, target: str, help: str, panel: str | None = None) -> None:
        """Declare command `name`, implemented by `target` ("module:attr"), with its one-line help (listed under
        `panel` by `--help`, in the order declared)."""
        if name in self._commands:
            raise ValueError(f"command {name!r} is declared twice ({self._commands[name].target}, {target})")
        self._commands[name] = LazyCommand(name, target, help, panel)

    def get(self, name: str) -> LazyCommand | None:
        """The declared command `name`, or None."""
        return self._commands.get(name)

    def __iter__(self) -> Iterator[LazyCommand]:
        return iter(self._commands.values())


class LazyGroup(TyperGroup):
    """A typer group whose declared commands are imported on first use (subclass and set `table`)."""

    table: ClassVar[CommandTable]
    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        declared = sorted(self.table, key=lambda entry: rank(entry.panel))  # by heading, then as declared
        return [*super().list_commands(ctx), *(entry.name for entry in declared if entry.name not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        loaded = self.commands.get(cmd_name)
        if loaded is not None:
            return loaded
        entry = self.table.get(cmd_name)
        if entry is None:
            return None
        if self._listing:  # the help page only needs the name and the declared help
            return TyperCommand(entry.name, help=entry.help, short_help=entry.help, rich_help_panel=entry.panel)
        command = entry.load()
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        without_flag_types(self, ctx)
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def without_flag_types(command: Command, context: Context | None = None) -> Command:
    """Show `command`'s flags (its own, `--help`, and its subcommands') without a type: a flag takes no value, so
    typer's `<bool>` beside it only puzzles the reader."""
    context = context or Context(command)
    help_option = command.get_help_option(context)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_flag", False):
            param.metavar = ""
    for child in getattr(command, "commands", {}).values():
        without_flag_types(child)
    return command


def load_tree(group: TyperGroup) -> TyperGroup:
    """Import every declared command of `group` and of its groups (documentation checks walk the whole tree)."""
    context = Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, TyperGroup):
            load_tree(command)
    return group
