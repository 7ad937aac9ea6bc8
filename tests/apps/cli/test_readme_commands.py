"""The README's command table is true: each command is listed once, and every command and option it shows exists."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from typer._click import Command, Context
from typer.core import TyperGroup as Group

from tradeops.cli import command_tree

ROOT = Path(__file__).resolve().parents[3]
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def table_usages(readme: str) -> list[list[str]]:
    """Per row of the "What works today" table, the `tradeops ...` usages of its first cell ("\\|" read as "|")."""
    section = readme.split("## What works today", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `tradeops"):
            continue
        first_cell = re.split(r"(?<!\\)\|", line)[1]
        chunks = [chunk.replace("\\|", "|") for chunk in re.findall(r"`([^`]+)`", first_cell)]
        rows.append([chunk for chunk in chunks if chunk.startswith("tradeops ")])
    return rows


def resolve(usage: str) -> list[tuple[str, Command, str]]:
    """The commands a usage names ("a|b" names both), each with its path and the rest of the usage."""
    root = command_tree()
    found: list[tuple[str, Command, str]] = []

    def walk(node: Command, path: list[str], tokens: list[str]) -> None:
        if isinstance(node, Group) and tokens:
            names = tokens[0].split("|")
            context = Context(node)
            if all(re.fullmatch(r"[a-z][a-z0-9-]*", name) for name in names):
                children = [node.get_command(context, name) for name in names]
                missing = [name for name, child in zip(names, children, strict=True) if child is None]
                assert not missing, f"README names `{' '.join([*path, *missing])}`, which does not exist"
                for name, child in zip(names, children, strict=True):
                    assert child is not None
                    walk(child, [*path, name], tokens[1:])
                return
        found.append((" ".join(path), node, " ".join(tokens)))

    walk(root, [], usage.split()[1:])
    return found


def options_of(command: Command) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


README_ROWS = table_usages((ROOT / "README.md").read_text())


@pytest.mark.req("DC-65")
def test_dc_65_the_readme_lists_each_command_once():
    rows_per_command: Counter[str] = Counter()
    for row in README_ROWS:
        rows_per_command.update({path for usage in row for path, _, _ in resolve(usage)})
    repeated = sorted(path for path, count in rows_per_command.items() if count > 1)
    assert not repeated, f"listed in more than one row of the README's command table: {repeated}"
    assert len(rows_per_command) > 40  # the table was read, not skipped


@pytest.mark.req("DC-65")
def test_dc_65_every_command_the_readme_names_exists_with_the_options_it_shows():
    unknown = []
    for row in README_ROWS:
        for usage in row:
            for path, command, rest in resolve(usage):
                shown = set(OPTION.findall(rest))
                unknown += [f"tradeops {path} {option}" for option in sorted(shown - options_of(command))]
    assert not unknown, f"the README shows options these commands do not take: {unknown}"


@pytest.mark.req("DC-65")
def test_dc_65_the_readme_documents_the_grid_comma_form_and_says_which_gate_example_fails():
    readme = (ROOT / "README.md").read_text()
    assert "fast=5,10,15" in readme
    examples = [line for line in readme.splitlines() if line.startswith(".venv/bin/tradeops gate")]
    assert examples and all("# exits " in line for line in examples), examples
