"""The MCP endpoint is bounded like the other services: JSON depth before parsing, wrong tokens throttled."""

from __future__ import annotations

import httpx
import pytest

from tests.apps.assistant.conftest import ALICE

ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.mark.req("DC-48")
def test_dc_48_an_mcp_call_nested_100_000_deep_gets_400_before_parsing(serve_http):
    deep = '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001
    with serve_http() as url:
        answer = httpx.post(
            f"{url}/mcp",
            content=deep,
            headers=ACCEPT | {"Authorization": f"Bearer {ALICE}", "Content-Type": "application/json"},
            timeout=60,
        )
        assert answer.status_code == 400 and "nested deeper than 64" in answer.text, answer.text[:300]
        assert httpx.get(f"{url}/healthz").status_code == 200


@pytest.mark.req("DC-46")
def test_dc_46_the_mcp_endpoint_answers_429_with_retry_after_after_10_wrong_tokens(serve_http):
    with serve_http() as url, httpx.Client(timeout=30) as http:
        codes = []
        for i in range(30):
            answer = http.post(
                f"{url}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers=ACCEPT | {"Authorization": f"Bearer wrong-token-{i:04d}-0123456789"},
            )
            codes.append(answer.status_code)
        assert codes.count(401) == 10 and codes.count(429) == 20, codes
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
