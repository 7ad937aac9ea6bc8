"""`tradeops serve mcp` as a real process, and settings it refuses in one line with exit code 2."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.apps.assistant.conftest import ALICE, ROOT, TOOLS, environment, http_client
from tests.apps.cli.test_cli import cli
from tests.fakes.servers import tradeops_service
from tradeops.assistant.access import Principals, RateLimiter, parse_tokens
from tradeops.errors import ConfigError
from tradeops.settings import load_settings


@pytest.mark.req("DC-23")
def test_dc_23_serve_mcp_runs_as_a_process_and_answers_with_a_token(tmp_path):
    env = environment({"data_dir": tmp_path / "d", "mcp_tokens": f"alice={ALICE}", "mcp_files_dir": ROOT})
    with tradeops_service(["serve", "mcp"], env) as served:
        assert httpx.get(f"{served.base}/healthz").json() == {"status": "ok"}
        assert httpx.post(f"{served.base}/mcp", json={}).status_code == 401

        async def listed() -> set[str]:
            async with http_client(served.base, ALICE) as client:
                return {t.name for t in (await client.list_tools()).tools}

        assert anyio.run(listed) == TOOLS
    assert "Traceback" not in served.output


# what staging and prod need besides the MCP settings (weak or missing ones are refused: DC-17)
STRICT_URLS = {"database_url": "postgresql://tradeops:a-strong-db-password@db/tradeops", "object_store": "s3://b/p"}


@pytest.mark.req("DC-23")
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"environment": "staging", "api_token": "a-real-api-token-0123"} | STRICT_URLS, "needs TRADEOPS_MCP_TOKENS"),
        ({"mcp_tokens": "alice"}, "TRADEOPS_MCP_TOKENS pair 1: PRINCIPAL=TOKEN, a token of 16+ characters"),
        ({"mcp_tokens": "alice=short"}, "pair 1"),
        ({"mcp_writers": "alice,bad writer"}, "mcp_writers"),
    ],
)
def test_dc_23_bad_mcp_settings_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, settings, message):
    for name, value in ({"data_dir": tmp_path / "d"} | settings).items():
        monkeypatch.setenv(f"TRADEOPS_{name.upper()}", str(value))
    code, _, err = cli(monkeypatch, capsys, "serve", "mcp", "--port", "1")
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "short" not in err  # a token is never echoed


@pytest.mark.req("DC-23")
def test_dc_23_tokens_name_principals_and_the_rate_limit_slides():
    assert parse_tokens(f"alice={ALICE}, bob = {ALICE}x") == {ALICE: "alice", f"{ALICE}x": "bob"}
    principals = Principals.from_settings(load_settings(mcp_tokens=f"alice={ALICE}"))
    assert principals.principal(f"Bearer {ALICE}") == "alice" and principals.principal(f"bearer {ALICE}") == "alice"
    assert principals.principal("Bearer wrong") is None and principals.principal(None) is None
    assert Principals.from_settings(load_settings(mcp_principal="me")).principal(None) == "me"  # local, no tokens
    with pytest.raises(ConfigError, match="outside local"):
        Principals.from_settings(load_settings(environment="prod", api_token="a-real-api-token-0123", **STRICT_URLS))

    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.check("a")
    limiter.check("a")
    limiter.check("b")
    with pytest.raises(ConfigError, match="retry in 60 s"):
        limiter.check("a")
    now[0] = 60.0
    limiter.check("a")  # the first two calls left the window
