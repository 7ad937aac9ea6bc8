"""Dashboard sessions are the server's: logout and token rotation end them on every replica; headers hold."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.apps.service.conftest import TOKEN, backtester
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

pytestmark = pytest.mark.req("DC-47")


def log_in(client: TestClient, token: str = TOKEN, **headers: str) -> tuple[str, str]:
    """The session cookie and the CSRF token of a fresh login."""
    client.cookies.clear()
    answer = client.post("/ui/login", data={"name": "bob", "token": token}, headers=headers, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    cookie = client.cookies["tradeops_session"]
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/new").text)
    assert found
    return cookie, found.group(1)


def replay(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set("tradeops_session", cookie, path="/ui")
    answer = client.get("/ui/", follow_redirects=False)
    assert answer.status_code == 200 or answer.headers["location"] == "/ui/login"
    return answer.status_code


def test_dc_47_a_cookie_replayed_after_logout_is_no_login(tmp_path):
    with backtester(tmp_path) as ui:
        cookie, csrf = log_in(ui)
        assert replay(ui, cookie) == 200
        assert ui.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert replay(ui, cookie) == 303  # on main the cookie stayed valid for up to 12 h


def test_dc_47_logout_on_one_replica_ends_the_session_on_the_other(tmp_path, postgres_url):
    options = {"api_token": TOKEN, "workers": 1, "database_url": postgres_url}
    first = TestClient(create_app(load_settings(data_dir=tmp_path / "a", **options)))
    second = TestClient(create_app(load_settings(data_dir=tmp_path / "b", **options)))
    with first, second:
        cookie, csrf = log_in(first)
        assert replay(second, cookie) == 200  # one login, good on every replica
        second.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
        assert replay(first, cookie) == 303 and replay(second, cookie) == 303


def test_dc_47_rotating_the_api_token_ends_the_sessions_of_the_old_one(tmp_path):
    with backtester(tmp_path) as old:
        cookie, _ = log_in(old)
    rotated = "rotated-token-0123456789abcdef"
    with backtester(tmp_path, api_token=rotated) as new:  # same database, new token
        assert replay(new, cookie) == 303
        fresh, _ = log_in(new, token=rotated)
        assert replay(new, fresh) == 200


def test_dc_47_every_page_has_x_frame_options_and_a_csp_with_a_fresh_nonce(tmp_path):
    with backtester(tmp_path) as ui:
        log_in(ui)
        policies = []
        for path in ("/ui/login", "/ui/", "/ui/new", "/ui/trader", "/ui/gate", "/ui/operations"):
            answer = ui.get(path)
            assert answer.headers["X-Frame-Options"] == "DENY", path
            policy = answer.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
            nonce = re.search(r"'nonce-([^']+)'", policy)
            assert nonce and "unsafe-eval" not in policy and "script-src 'self' 'nonce-" in policy, policy
            assert all(
                f'nonce="{nonce.group(1)}"' in tag
                for tag in re.findall(r"<script(?! type=.application/json)[^>]*>", answer.text)
            ), path
            assert not re.search(r"\son[a-z]+=", answer.text), path  # no event-handler attributes: CSP forbids them
            policies.append(policy)
        assert len(set(policies)) == len(policies)  # a nonce per response


def test_dc_47_the_cookie_is_secure_only_when_a_trusted_proxy_says_https(tmp_path):
    with backtester(tmp_path, trusted_proxies="testclient") as ui:
        answer = ui.post(
            "/ui/login",
            data={"name": "bob", "token": TOKEN},
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        assert "Secure" in answer.headers["set-cookie"] and answer.headers["Strict-Transport-Security"]
        plain = ui.post("/ui/login", data={"name": "bob", "token": TOKEN}, follow_redirects=False)
        assert "Secure" not in plain.headers["set-cookie"]
    with backtester(tmp_path) as untrusted:  # the header from a peer not in TRADEOPS_TRUSTED_PROXIES is ignored
        answer = untrusted.post(
            "/ui/login",
            data={"name": "bob", "token": TOKEN},
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        assert "Secure" not in answer.headers["set-cookie"]
