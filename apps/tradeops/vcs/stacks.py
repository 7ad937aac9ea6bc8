"""The stack configs as the base branch holds them, and proposal branches that change them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tradeops.errors import ConfigError
from tradeops.vcs.git import Clone
from tradeops.vcs.stackfile import read_settings, stack_file, with_params

AUTHOR = ("tradeops slackbot", "slackbot@tradeops.invalid")


@dataclass(frozen=True)
class StackFile:
    """A stack file as read: its text, its `tradeops:settings`, and the commit it was read at."""

    stack: str
    text: str
    settings: dict[str, Any]
    commit: str


class StackRepository:
    """Stack files on `base` in a private clone; one git operation at a time."""

    def __init__(self, clone: Clone, base: str) -> None:
        self.clone, self.base = clone, base
        self._lock = threading.Lock()

    def read(self, stack: str) -> StackFile:
        """Fetch, then return the stack file as the base branch holds it now, with the commit it was read at."""
        path = stack_file(stack)
        with self._lock:
            self.clone.sync()
            commit = self.clone.head(self.base)
            try:
                text = self.clone.read(commit, path)
            except ConfigError:
                raise ConfigError(f"{path} not found on {self.base}") from None
        return StackFile(stack, text, read_settings(text, f"{path} on {self.base}"), commit)

    def list_files(self, *folders: str) -> list[str]:
        """Fetch, then the paths under `folders` on the base branch."""
        with self._lock:
            self.clone.sync()
            return self.clone.git("ls-tree", "-r", "--name-only", f"origin/{self.base}", "--", *folders).split()

    def read_file(self, path: str) -> str:
        """A file as the base branch held it at the last fetch."""
        with self._lock:
            return self.clone.read(self.base, path)

    def commit_params(
        self,
        read: StackFile,
        params: dict[str, Any],
        *,
        branch: str,
        message: str,
        author: tuple[str, str] = AUTHOR,
        provenance: dict[str, Any] | None = None,
    ) -> str:
        """Commit the file with the candidate's params (and provenance: None is by hand) updated, on a new
        branch from the commit it was read at; push it; the new commit's sha."""
        path = stack_file(read.stack)
        changed = with_params(read.text, params, path, provenance)
        with self._lock:
            return self.clone.commit_branch(
                start=read.commit, branch=branch, files={path: changed}, message=message, author=author
            )
