"""A real bare git repository holding this project's stack configs, and the fake GitHub in front of it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.github_api import FakeGitHub

ROOT = Path(__file__).resolve().parents[3]
GITHUB_REPO, GITHUB_TOKEN = "acme/tradeops", "fake-github-token-0123456789"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository whose `main` holds this project's real stack configs."""
    bare, work = tmp_path / "origin.git", tmp_path / "seed"
    git("init", "--quiet", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    git("init", "--quiet", "-b", "main", str(work), cwd=tmp_path)
    shutil.copytree(ROOT / "infra/stacks", work / "infra/stacks")
    git("add", ".", cwd=work)
    git("-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", "stacks", cwd=work)
    git("push", "--quiet", str(bare), "main", cwd=work)
    return bare


@pytest.fixture
def fake_github(origin: Path) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(GITHUB_TOKEN, {GITHUB_REPO}, origin)
    yield fake
    fake.stop()
