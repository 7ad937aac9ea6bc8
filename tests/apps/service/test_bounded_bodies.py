"""DC-16: request bodies are bounded before parsing and before auth, in every service (real processes, real
HTTP, memory read from /proc); validation errors quote an excerpt, never the input."""

from __future__ import annotations

import os
import sys

import httpx
import pytest
from pipelines.faults._inject import memory_mb, post_oversize

from tests.apps.service.conftest import AUTH, TOKEN
from tests.fakes.servers import tradeops_service

HUNDRED_MB = 100 * 1024 * 1024


def service_env(tmp_path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "TRADEOPS_DATA_DIR": str(tmp_path),
        "TRADEOPS_API_TOKEN": TOKEN,
        "TRADEOPS_WORKERS": "1",
        **extra,
    }


@pytest.mark.req("DC-16")
def test_dc_16_a_100_mb_post_gets_413_before_auth_and_the_server_memory_stays_flat(tmp_path):
    with tradeops_service(["serve", "backtester"], service_env(tmp_path)) as served:
        before = memory_mb(served.process.pid)
        for chunked, headers in ((False, {}), (True, {}), (True, AUTH)):
            status, taken = post_oversize(served.base, "/v1/backtests", HUNDRED_MB, chunked=chunked, headers=headers)
            expected = 401 if chunked and not headers else 413  # a streamed body: no token, nothing is read
            assert status == expected, (chunked, headers, status)
            assert taken < HUNDRED_MB
        after = memory_mb(served.process.pid)
        assert after["peak"] - before["peak"] < 40, (before, after)
        assert httpx.get(f"{served.base}/readyz", timeout=10).status_code == 200


@pytest.mark.req("DC-16")
def test_dc_16_a_422_quotes_an_excerpt_of_the_input_and_auth_comes_before_parsing(tmp_path):
    with tradeops_service(["serve", "backtester"], service_env(tmp_path)) as served:
        huge = {"strategy": "x" * 900_000}
        refused = httpx.post(f"{served.base}/v1/backtests", json=huge, headers=AUTH, timeout=30)
        assert refused.status_code == 422 and len(refused.content) < 2_000, len(refused.content)
        assert "x" * 200 not in refused.text and " characters)" in refused.text  # an excerpt, saying it was cut
        broken = httpx.post(f"{served.base}/v1/backtests", content=b"{not json", timeout=10)
        assert broken.status_code == 401  # no token: refused before the body is parsed
        unparsable = httpx.post(
            f"{served.base}/v1/backtests", content=b"{not json", headers=AUTH | {"Content-Type": "application/json"}
        )
        assert unparsable.status_code == 422


@pytest.mark.req("DC-16")
def test_dc_16_the_slack_bot_refuses_a_huge_unsigned_body_before_reading_it(tmp_path):
    env = service_env(tmp_path, TRADEOPS_SLACK_SIGNING_SECRET="8f742231b10e8888abcd99yyyzzz85a5")
    with tradeops_service(["serve", "slackbot"], env) as served:
        before = memory_mb(served.process.pid)
        for chunked in (False, True):
            status, taken = post_oversize(served.base, "/slack/commands", 2 * HUNDRED_MB, chunked=chunked)
            assert status == 413 and taken < HUNDRED_MB, (chunked, status, taken)
        after = memory_mb(served.process.pid)
        assert after["peak"] - before["peak"] < 40, (before, after)
