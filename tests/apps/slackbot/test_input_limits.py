"""Slack's payloads are bounded like every body: a signed interaction nested too deep is a 400, not a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.req("DC-48")


@pytest.mark.parametrize("depth", [100_000, 65])
def test_dc_48_a_signed_interaction_nested_deeper_than_the_limit_gets_400(bot, depth):
    payload = '{"type": "block_actions", "actions": ' + "[" * depth + "]" * depth + "}"
    answer = bot.post("/slack/interactions", urlencode({"payload": payload}))  # signed with the bot's secret
    assert answer.status_code == 400, answer.text[:300]
    assert "nested deeper than 64" in answer.text


def test_dc_48_a_signed_interaction_within_the_limit_reaches_the_handler(bot):
    payload = '{"type": "block_actions", "actions": ' + "[" * 60 + "]" * 60 + "}"
    answer = bot.post("/slack/interactions", urlencode({"payload": payload}))
    assert answer.json() == {"error": "not a block_actions payload"}  # parsed by the handler, which names the shape
