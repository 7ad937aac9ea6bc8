"""Git, as the pipelines ask it: which commit this is, what changed, a checkout of an older commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git(*args: str, cwd: Path = ROOT, check: bool = True) -> str:
    """Run `git ARGS` in the repository; return its output without the trailing newline."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)  # noqa: S603, S607
    return done.stdout.strip()
