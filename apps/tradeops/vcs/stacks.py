"""The stack configs as the base branch holds them, and proposal branches that change them."""

from __future__ import annotations

import threading
from typing import Any

from tradeops.vcs.git import Clone
from tradeops.vcs.stackfile import read_settings, stack_file, with_params

AUTHOR = ("tradeops slackbot", "slackbot@tradeops.invalid")


class StackRepository:
    """Stack files on `base` in a private clone; one git operation at a time."""

    def __init__(self, clone: Clone, base: str) -> None:
        self.clone, self.base = clone, base
        self._lock = threading.Lock()

    def read(self, stack: str) -> tuple[str, dict[str, Any]]:
        """Fetch, then return the stack file's text on the base branch and its `tradeops:settings`."""
        path = stack_file(stack)
        with self._lock:
            self.clone.sync()
            text = self.clone.read(self.base, path)
        return text, read_settings(text, f"{path} on {self.base}")

    def commit_params(self, stack: str, text: str, params: dict[str, Any], *, branch: str, message: str) -> str:
        """Commit `text` with the candidate's params updated on a new branch from base, push it; the commit sha."""
        path = stack_file(stack)
        changed = with_params(text, params, path)
        with self._lock:
            return self.clone.commit_branch(
                base=self.base, branch=branch, files={path: changed}, message=message, author=AUTHOR
            )
