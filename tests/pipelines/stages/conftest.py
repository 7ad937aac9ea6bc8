"""The stages' surroundings: the local Pulumi engine in place of the Automation API, the fake GitHub, Slack by env."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipelines.deploy import engine as engines
from tests.fakes.github_api import FakeGitHub
from tests.fakes.pulumi_engine import FakeEngine
from tests.fakes.slack_api import FakeSlack

TOKEN = "github-test-token"
REPO = "acme/tradeops"


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    """The engine every `tradeops` command gets instead of Pulumi's Automation API."""
    fake = FakeEngine()
    monkeypatch.setattr(engines, "open_engine", lambda: fake)
    return fake


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(TOKEN, {REPO})
    yield fake
    fake.stop()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, tmp_path) -> FakeSlack:
    """TRADEOPS_* settings that send notifications to the fake Slack and keep local data in tmp_path."""
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRADEOPS_SLACK_TOKEN", "xoxb-test")
    monkeypatch.setenv("TRADEOPS_SLACK_CHANNEL", "#deploys")
    monkeypatch.setenv("TRADEOPS_SLACK_BASE_URL", fake_slack.base_url)
    return fake_slack
