"""The `/trading` command: subcommands, their help, and parsing the text Slack sends.

Text is split like a shell line: positional words, `name=value` assignments (values read as YAML
scalars, as `--param` does on the CLI), `--flag` and `--option=value`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from tradeops.cli.options import parse_value
from tradeops.errors import ConfigError


class UsageError(ConfigError):
    """The command text does not fit the command; the message says how to write it."""


@dataclass(frozen=True)
class Spec:
    """One subcommand: how to write it, what it does, an example, and whether it changes anything."""

    usage: str
    summary: str
    example: str
    max_positional: int = 0
    min_positional: int = 0
    assignments: bool = False
    needs_assignments: bool = False
    options: frozenset[str] = frozenset()  # --NAME=VALUE
    flags: frozenset[str] = frozenset()  # --NAME, no value
    write: bool = False
    free_text: bool = False  # the rest of the line is one text (a reason)


SPECS: dict[str, Spec] = {
    "status": Spec("status", "services, version, trader state, equity and drawdown", "/trading status"),
    "params": Spec(
        "params [STACK]", "the stack's strategy, parameters and thresholds (from git)", "/trading params prod", 1
    ),
    "verdict": Spec("verdict [STACK]", "the last gate verdict of the stack's candidate", "/trading verdict", 1),
    "releases": Spec("releases [STACK]", "the stack's recent releases", "/trading releases staging", 1),
    "backups": Spec("backups", "the newest backups, last backup age and RPO", "/trading backups"),
    "backtest": Spec(
        "backtest STRATEGY [k=v ...] [--data=D]",
        "run a backtest on the backtester; metrics and report link follow",
        "/trading backtest sma_cross fast=10 slow=30 --data=sample:GOOG",
        1,
        min_positional=1,
        assignments=True,
        options=frozenset({"data"}),
    ),
    "propose": Spec(
        "propose STACK k=v ... [--pr]",
        "validate new parameters, run the gate on them; with --pr open a pull request editing the stack config",
        "/trading propose staging fast=12 slow=40 --pr",
        1,
        min_positional=1,
        assignments=True,
        needs_assignments=True,
        flags=frozenset({"pr"}),
        write=True,
    ),
    "halt": Spec(
        "halt [REASON]",
        "stop trading: no new orders (asks for confirmation)",
        "/trading halt news",
        0,
        write=True,
        free_text=True,
    ),
    "reduce-only": Spec(
        "reduce-only [REASON]",
        "only close positions, open none (asks for confirmation)",
        "/trading reduce-only drawdown",
        write=True,
        free_text=True,
    ),
    "resume": Spec(
        "resume [REASON]", "trade normally again (asks for confirmation)", "/trading resume", write=True, free_text=True
    ),
    "approve": Spec(
        "approve BUNDLE [STAGE]",
        "approve a verified bundle's promotion into STAGE (default prod; asks for confirmation)",
        "/trading approve bundle-5f1c0e9a2b7d4c3e8a6f1b2c prod",
        2,
        min_positional=1,
        write=True,
    ),
    "help": Spec("help [COMMAND]", "this list, or one command's help", "/trading help propose", 1),
}


@dataclass(frozen=True)
class Invocation:
    """A parsed command line."""

    name: str
    positional: list[str] = field(default_factory=list)
    assignments: dict[str, Any] = field(default_factory=dict)
    options: dict[str, str | bool] = field(default_factory=dict)
    text: str = ""

    @property
    def spec(self) -> Spec:
        return SPECS[self.name]

    def arg(self, index: int, default: str | None = None) -> str | None:
        return self.positional[index] if index < len(self.positional) else default


def parse(text: str) -> Invocation:
    """Parse the text after `/trading`; a UsageError says what is wrong and how to write it."""
    text = text.strip()
    if not text:
        return Invocation("help")
    name, _, rest = text.partition(" ")
    name = name.lower()
    spec = SPECS.get(name)
    if spec is None:
        raise UsageError(f"unknown command `{name}`; commands: {', '.join(SPECS)} (try `/trading help`)")
    if spec.free_text:
        return Invocation(name, text=rest.strip())
    try:
        words = shlex.split(rest.replace("\u201c", '"').replace("\u201d", '"'))  # Slack's smart quotes
    except ValueError as error:
        raise UsageError(f"cannot read `{rest}`: {error}") from None
    invocation = Invocation(name, text=rest.strip())
    for word in words:
        _take(invocation, spec, word)
    if len(invocation.positional) > spec.max_positional:
        raise UsageError(f"too many arguments; usage: `/trading {spec.usage}`")
    if len(invocation.positional) < spec.min_positional or (spec.needs_assignments and not invocation.assignments):
        raise UsageError(f"missing arguments; usage: `/trading {spec.usage}`")
    return invocation


def _take(invocation: Invocation, spec: Spec, word: str) -> None:
    if word.startswith("--"):
        key, sep, value = word[2:].partition("=")
        if key in spec.flags and not sep:
            invocation.options[key] = True
        elif key in spec.options and sep and value:
            invocation.options[key] = value
        elif key in spec.flags or key in spec.options:
            form = f"--{key}" if key in spec.flags else f"--{key}=VALUE"
            raise UsageError(f"write `{form}`; usage: `/trading {spec.usage}`")
        else:
            raise UsageError(f"`{name_of(word)}` is not an option of {invocation.name}; usage: `/trading {spec.usage}`")
    elif "=" in word:
        key, _, value = word.partition("=")
        if not spec.assignments or not key or not value:
            raise UsageError(f"`{word}` does not fit; usage: `/trading {spec.usage}`")
        invocation.assignments[key] = parse_value(value)
    else:
        invocation.positional.append(word)


def name_of(word: str) -> str:
    return word.partition("=")[0]


def help_text(name: str | None = None) -> str:
    """Every command in one list, or one command with its example."""
    if name is not None:
        spec = SPECS.get(name)
        if spec is None:
            raise UsageError(f"unknown command `{name}`; commands: {', '.join(SPECS)}")
        access = "write permission required" if spec.write else "anyone in the channel"
        return f"`/trading {spec.usage}`: {spec.summary} ({access}).\nExample: `{spec.example}`"
    lines = ["*/trading* commands (`/trading help COMMAND` for one):"]
    lines += [f"• `{s.usage}`: {s.summary}{' *(write)*' if s.write else ''}" for s in SPECS.values()]
    return "\n".join(lines)
