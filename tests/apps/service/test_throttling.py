"""Guessing tokens is slow: wrong dashboard logins and wrong bearer tokens are throttled per client and in total.

Measured on main before the throttle: all 300 wrong logins were checked (in 2.3 s, about 7,800 a minute
from one client), and the API and the trader checked 300 wrong bearer tokens in 0.3 s with no 429.
"""

from __future__ import annotations

import pytest

from tests.apps.service.conftest import AUTH, TOKEN, backtester
from tests.apps.trader.test_service import settings as trader_settings

pytestmark = pytest.mark.req("DC-46")
GATE = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}


def outcomes(answers) -> dict[int, int]:
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status_code] = counts.get(answer.status_code, 0) + 1
    return counts


def test_dc_46_300_wrong_logins_from_one_client_get_10_checks_a_minute_then_429(tmp_path):
    with backtester(tmp_path) as ui:
        answers = [ui.post("/ui/login", data={"name": "mallory", "token": f"guess-{i}"}) for i in range(300)]
        counts = outcomes(answers)
        assert counts == {401: 10, 429: 290}, counts  # checked a minute: 300 before, 10 now
        last = answers[-1]
        assert 1 <= int(last.headers["Retry-After"]) <= 60 and "too many wrong tokens" in last.text
        right = ui.post("/ui/login", data={"name": "alice", "token": TOKEN}, follow_redirects=False)
        assert right.status_code == 429 and "tradeops_session" not in right.headers.get("set-cookie", "")


def test_dc_46_wrong_logins_from_many_clients_are_throttled_in_total(tmp_path):
    with backtester(tmp_path, trusted_proxies="testclient", auth_failures_per_minute_total=30) as ui:
        codes = []
        for i in range(60):  # 60 clients behind the trusted proxy, one guess each
            forwarded = {"X-Forwarded-For": f"203.0.113.{i}"}
            codes.append(ui.post("/ui/login", data={"name": "m", "token": "x"}, headers=forwarded).status_code)
        assert codes.count(401) == 30 and codes.count(429) == 30, codes
        fresh = ui.post("/ui/login", data={"name": "m", "token": "x"}, headers={"X-Forwarded-For": "198.51.100.1"})
        assert fresh.status_code == 429 and "Retry-After" in fresh.headers


def test_dc_46_a_client_behind_an_untrusted_proxy_cannot_escape_by_forging_x_forwarded_for(tmp_path):
    with backtester(tmp_path) as ui:  # no trusted proxies: X-Forwarded-For is ignored, the peer counts
        for i in range(12):
            last = ui.post("/ui/login", data={"name": "m", "token": "x"}, headers={"X-Forwarded-For": f"10.0.0.{i}"})
        assert last.status_code == 429


def test_dc_46_the_api_answers_429_with_retry_after_after_10_wrong_bearer_tokens(tmp_path):
    with backtester(tmp_path) as api:
        answers = [api.post("/v1/gate", json=GATE, headers={"Authorization": f"Bearer guess-{i}"}) for i in range(300)]
        assert outcomes(answers) == {401: 10, 429: 290}
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
        assert api.post("/v1/gate", json=GATE, headers=AUTH).status_code == 429  # the right token waits too
        assert api.get("/v1/strategies").status_code == 200  # reads that need no token are not throttled


def test_dc_46_the_trader_answers_429_with_retry_after_after_10_wrong_bearer_tokens(tmp_path):
    from fastapi.testclient import TestClient

    from tradeops.trader.service import create_app

    with TestClient(create_app(trader_settings(tmp_path, trader_poll_seconds=0.05))) as trader:
        wrong = [
            trader.post(
                "/v1/trader/state", json={"action": "halt", "reason": "guess"}, headers={"Authorization": "Bearer x"}
            )
            for _ in range(300)
        ]
        assert outcomes(wrong) == {401: 10, 429: 290}
        assert 1 <= int(wrong[-1].headers["Retry-After"]) <= 60
        assert trader.get("/v1/trader/audit", headers={"Authorization": "Bearer y"}).status_code == 429


def test_dc_46_the_openapi_document_lists_429_where_a_token_is_needed(tmp_path):
    with backtester(tmp_path) as api:
        operations = api.get("/openapi.json").json()["paths"]["/v1/gate"]["post"]
    assert "429" in operations["responses"]
