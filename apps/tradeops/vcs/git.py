"""A private git clone of the repository: fetch, read files at the base branch, commit and push a branch.

Git runs as the `git` command. The clone belongs to the service alone (it is reset freely); a token
for an HTTPS remote travels in the environment as an `http.extraHeader`, never in arguments or logs.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

from tradeops.errors import ConfigError, TradeopsError

TIMEOUT_SECONDS = 120


class GitError(TradeopsError):
    """A git command failed; the message holds its stderr."""


class Clone:
    """The clone at `path` of `remote`, created on first use."""

    def __init__(self, path: Path, remote: str, *, token: str | None = None) -> None:
        self.path, self.remote = path, remote
        self._env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        if token and remote.startswith("https://"):
            credentials = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            self._env |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {credentials}",
            }

    def git(self, *args: str, cwd: Path | None = None) -> str:
        """Run one git command; its stdout, or a GitError with its stderr."""
        try:
            done = subprocess.run(  # noqa: S603 - fixed executable, arguments are ours
                ["git", *args],  # noqa: S607 - git from PATH, as in the image
                cwd=cwd or self.path,
                env=self._env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise GitError(f"git {args[0]}: {error}") from None
        if done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {done.stderr.strip()[-500:]}")
        return done.stdout

    def sync(self) -> None:
        """Clone on first use, then fetch: the remote's branches become `origin/*`."""
        if not (self.path / ".git").is_dir():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.git("clone", "--no-checkout", "--quiet", self.remote, str(self.path), cwd=self.path.parent)
        self.git("remote", "set-url", "origin", self.remote)
        self.git("fetch", "--prune", "--quiet", "origin")

    def read(self, branch: str, file: str) -> str:
        """The file's content on the remote's `branch` (as of the last sync); a ConfigError when it has none."""
        try:
            self.git("cat-file", "-e", f"origin/{branch}:{file}")
        except GitError:
            raise ConfigError(f"{file} not found on {branch}") from None
        return self.git("show", f"origin/{branch}:{file}")

    def commit_branch(
        self, *, base: str, branch: str, files: dict[str, str], message: str, author: tuple[str, str]
    ) -> str:
        """Start `branch` at origin/`base`, write `files`, commit them and push the branch; return the commit."""
        self.git("checkout", "--quiet", "--force", "-B", branch, f"origin/{base}")
        for name, text in files.items():
            (self.path / name).write_text(text)
        self.git("add", "--", *files)
        name, email = author
        self.git("-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", f"{branch}:refs/heads/{branch}")
        return self.git("rev-parse", "HEAD").strip()
