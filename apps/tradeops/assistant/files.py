"""The only repository files the MCP server reads: the map, the diagrams, the docs pages and the stack configs.

With a git remote they come from the base branch (the same clone proposals are made in); without one,
from a local checkout. A path is readable only when it is one of `readable()`'s: nothing else on disk
or in git, and never a secret value (stack configs are shown with their secret keys by name only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tradeops.errors import ConfigError
from tradeops.vcs.stackfile import SETTINGS_KEY, stack_file
from tradeops.vcs.stacks import StackRepository

SYSTEM_MAP, DIAGRAMS = "system_map.yaml", "docs/diagrams.md"
PAGE = re.compile(r"^docs/[a-z0-9_-]+\.md$")
STACK = re.compile(r"^infra/stacks/Pulumi\.([a-z0-9][a-z0-9-]{0,40})\.yaml$")


class DeskFiles:
    """Read the listed files from the base branch (`repository`) or from the folder `root`."""

    def __init__(self, repository: StackRepository | None, root: Path) -> None:
        self.repository, self.root = repository, root.resolve()

    def _all(self) -> list[str]:
        if self.repository is not None:
            return self.repository.list_files("docs", "infra/stacks", SYSTEM_MAP)
        found = [p.relative_to(self.root).as_posix() for p in (self.root / "docs").glob("*.md")]
        found += [p.relative_to(self.root).as_posix() for p in (self.root / "infra/stacks").glob("Pulumi.*.yaml")]
        return [*found, SYSTEM_MAP] if (self.root / SYSTEM_MAP).is_file() else found

    def readable(self) -> list[str]:
        """Every path a resource may read, sorted."""
        return sorted({p for p in self._all() if p == SYSTEM_MAP or PAGE.match(p) or STACK.match(p)})

    def pages(self) -> list[str]:
        return [p.removeprefix("docs/").removesuffix(".md") for p in self.readable() if PAGE.match(p)]

    def stacks(self) -> list[str]:
        return [m.group(1) for p in self.readable() if (m := STACK.match(p))]

    def read(self, path: str) -> str:
        """The file's text; a ConfigError for any path not in `readable()`."""
        if path not in self.readable():
            raise ConfigError(f"{path!r} is not one of the files this server shows (see the resource list)")
        if self.repository is not None:
            return self.repository.read_file(path)
        target = self.root / path
        if not target.is_file():
            raise ConfigError(f"{path} not found under {self.root}")
        return target.read_text()

    def stack_config(self, stack: str) -> dict[str, Any]:
        """The stack's `tradeops:settings`, its version, and its secrets by name (values never leave the file)."""
        path = stack_file(stack)
        document = yaml.safe_load(self.read(path)) or {}
        config = dict(document.get("config") or {})
        secrets = sorted(k for k, v in config.items() if isinstance(v, dict) and "secure" in v)
        return {
            "stack": stack,
            "file": path,
            "version": config.get("tradeops:version"),
            "settings": config.get(SETTINGS_KEY) or {},
            "secrets_by_name": secrets,
        }
