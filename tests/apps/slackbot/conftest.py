"""A running Slack bot per test on a real HTTP server, with real git (a bare origin), fake Slack and GitHub.

Requests are signed exactly as Slack signs them: `v0=` + HMAC-SHA256(signing secret,
"v0:{timestamp}:{body}") in X-Slack-Signature, the Unix time in X-Slack-Request-Timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.apps.vcs import conftest as vcs
from tests.apps.vcs.conftest import GITHUB_REPO, GITHUB_TOKEN
from tests.fakes.github_api import FakeGitHub
from tests.fakes.servers import uvicorn_server
from tests.fakes.slack_api import FakeSlack
from tradeops.settings import load_settings
from tradeops.slackbot import create_app
from tradeops.store.database import open_engine
from tradeops.store.models import TraderEquityRow, TraderSessionRow

origin, fake_github = vcs.origin, vcs.fake_github  # the bare repository and fake GitHub fixtures
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the shape of a Slack signing secret
WRITER, READER, ADMIN = "U0WRITER", "U0READER", "U0ADMIN"  # ADMIN writes through the user group S0ADMINS


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSide:
    """What Slack does: send signed commands and clicks, then read what the bot posted back."""

    def __init__(self, url: str, fake: FakeSlack) -> None:
        self.url, self.fake = url, fake
        self.http = httpx.Client(base_url=url, timeout=30)

    def post(
        self,
        path: str,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = int(time.time()) if timestamp is None else timestamp
        signed = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(body, stamp, secret),
        }
        return self.http.post(path, content=body.encode(), headers=signed if headers is None else headers)

    def command_body(self, text: str, user: str, channel: str, response_url: str) -> str:
        return urlencode(
            {
                "token": "deprecated-verification-token",
                "team_id": "T0TEAM",
                "team_domain": "acme",
                "channel_id": "C0TRADING",
                "channel_name": channel,
                "user_id": user,
                "user_name": user.lower(),
                "command": "/trading",
                "text": text,
                "api_app_id": "A0TRADEOPS",
                "response_url": response_url,
                "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            }
        )

    def command(self, text: str, user: str = WRITER, channel: str = "trading") -> tuple[httpx.Response, str]:
        """Send `/trading text`; the answer and the command's response_url."""
        response_url = self.fake.response_url()
        return self.post("/slack/commands", self.command_body(text, user, channel, response_url)), response_url

    def result(self, text: str, user: str = WRITER, timeout: float = 60) -> dict[str, Any]:
        """Send a command that answers later; the message it posts to its response_url."""
        started = time.monotonic()
        answer, response_url = self.command(text, user)
        assert answer.status_code == 200 and time.monotonic() - started < 3, answer.text  # Slack's 3-second limit
        assert ":hourglass_flowing_sand:" in answer.json()["text"]
        return self.fake.replies(response_url, timeout=timeout)[0]

    def click(self, button: dict[str, Any], user: str) -> tuple[httpx.Response, str]:
        """Click a Block Kit button as `user` (a block_actions payload, as Slack posts it)."""
        response_url = self.fake.response_url()
        payload = {
            "type": "block_actions",
            "team": {"id": "T0TEAM", "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0TEAM"},
            "api_app_id": "A0TRADEOPS",
            "channel": {"id": "C0TRADING", "name": "trading"},
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "actions": [
                {
                    "type": "button",
                    "block_id": "killswitch",
                    "action_id": button["action_id"],
                    "text": button["text"],
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.post("/slack/interactions", urlencode({"payload": json.dumps(payload)})), response_url


@pytest.fixture
def make_bot(tmp_path: Path, fake_slack: FakeSlack, fake_github: FakeGitHub, origin: Path) -> Callable[..., Any]:
    """Start the bot (settings overridable); yields a SlackSide talking to it."""
    fake_slack.usergroups["S0ADMINS"] = [ADMIN]

    @contextmanager
    def start(**overrides: Any) -> Iterator[SlackSide]:
        options = {
            "data_dir": tmp_path / "bot",
            "slack_signing_secret": SECRET,
            "slack_token": "xoxb-fake-token",
            "slack_channel": "#trading",
            "slack_base_url": fake_slack.base_url,
            "slack_writers": f"{WRITER},S0ADMINS",
            "git_remote": str(origin),
            "github_repo": GITHUB_REPO,
            "github_token": GITHUB_TOKEN,
            "github_api_url": fake_github.url,
        } | overrides
        with uvicorn_server(create_app(load_settings(**options))) as url:
            yield SlackSide(url, fake_slack)

    return start


@pytest.fixture
def bot(make_bot: Callable[..., Any]) -> Iterator[SlackSide]:
    with make_bot() as side:
        yield side


def add_session(database_url: str, session_id: str = "paper-goog", state: str = "running") -> None:
    """A trading session as the trading loop leaves it after a few bars."""
    engine = open_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.add(
            TraderSessionRow(
                id=session_id,
                strategy="sma_cross",
                params={"fast": 10, "slow": 30},
                data_ref="sample:GOOG",
                symbols=["GOOG"],
                execution={},
                risk={},
                state=state,
                state_reason=None,
                status="active",
                last_bar=41,
                last_time=now,
                peak_equity=10_500.0,
                day=None,
                day_start_equity=10_000.0,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()  # the session row first: the equity row refers to it
        session.add(
            TraderEquityRow(session_id=session_id, bar=41, time=now, equity=10_290.0, exposure=0.0, drawdown_pct=2.0)
        )
    engine.dispose()
