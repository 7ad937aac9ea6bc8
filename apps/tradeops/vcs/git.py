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

    def head(self, branch: str) -> str:
        """The commit the remote's `branch` points at (as of the last sync)."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"origin/{branch}^{{commit}}").strip()
        except GitError:
            raise ConfigError(f"the remote has no branch {branch!r}") from None

    def read(self, revision: str, file: str) -> str:
        """The file's content at `revision` (a commit, or a branch of the remote); a ConfigError when it has none."""
        ref = revision if _is_sha(revision) else f"origin/{revision}"
        try:
            self.git("cat-file", "-e", f"{ref}:{file}")
        except GitError:
            raise ConfigError(f"{file} not found on {revision}") from None
        return self.git("show", f"{ref}:{file}")

    def commit_branch(
        self, *, start: str, branch: str, files: dict[str, str], message: str, author: tuple[str, str]
    ) -> str:
        """Start `branch` at commit `start`, write `files`, commit them and push the branch; return the commit.

        Starting from the commit the files were read at (not the branch's newest) keeps a proposal a
        change of exactly its lines: a concurrent change to the same file is merged by the PR, not undone.
        """
        self.git("checkout", "--quiet", "--force", "-B", branch, start)
        for name, text in files.items():
            (self.path / name).write_text(text)
        self.git("add", "--", *files)
        if not self.git("diff", "--cached", "--name-only").strip():
            raise ConfigError("nothing to propose: the file already holds these values")
        name, email = author
        self.git("-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", f"{branch}:refs/heads/{branch}")
        return self.git("rev-parse", "HEAD").strip()


def _is_sha(revision: str) -> bool:
    return len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)
