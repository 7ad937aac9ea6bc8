"""The dashboard's rules over HTTP: login once, a signed cookie, CSRF on every change, inline form errors."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.apps.service.conftest import TOKEN, backtester, wait_for


@pytest.fixture
def ui(tmp_path):
    with backtester(tmp_path) as client:
        yield client


def log_in(client, name: str = "bob") -> str:
    answer = client.post("/ui/login", data={"name": name, "token": TOKEN}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    return csrf_of(client.get("/ui/new").text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.req("DC-19")
def test_dc_19_pages_need_a_login_and_a_forged_cookie_is_no_login(ui):
    for path in ("/ui/", "/ui/new", "/ui/trader", "/ui/gate", "/ui/operations", "/ui/compare?run=x"):
        answer = ui.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/login", path
    assert ui.post("/ui/login", data={"name": "bob", "token": "nope"}).status_code == 401
    assert ui.post("/ui/login", data={"name": "bob smith!", "token": TOKEN}).status_code == 422
    ui.cookies.set("tradeops_session", "e30.forged", path="/ui")
    assert ui.get("/ui/", follow_redirects=False).status_code == 303
    ui.cookies.clear()
    csrf = log_in(ui)
    assert ui.get("/ui/").status_code == 200
    assert ui.post("/ui/logout", data={"csrf": "wrong"}).status_code == 403
    assert ui.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303


@pytest.mark.req("DC-19")
def test_dc_19_every_change_needs_the_sessions_csrf_token(ui):
    csrf = log_in(ui)
    form = {"kind": "backtest", "strategy": "sma_cross", "data": "sample:GOOG", "sma_cross.fast": "10"}
    assert ui.post("/ui/new", data=form).status_code == 403
    assert ui.post("/ui/new", data=form | {"csrf": "not-mine"}).status_code == 403
    switch = {"session": "s", "command": "halt", "reason": "r", "confirm": "halt", "csrf": "not-mine"}
    assert ui.post("/ui/trader/kill-switch", data=switch).status_code == 403
    unconfirmed = ui.post("/ui/trader/kill-switch", data=switch | {"csrf": csrf, "confirm": "resume"})
    assert unconfirmed.status_code == 422 and "type 'halt' to confirm" in unescape(unconfirmed.text)
    unknown = ui.post("/ui/trader/kill-switch", data=switch | {"csrf": csrf})
    assert unknown.status_code == 422 and "no trading session 's'" in unescape(unknown.text)


@pytest.mark.req("DC-19")
def test_dc_19_the_form_shows_each_error_next_to_its_field_and_queues_valid_runs(ui):
    csrf = log_in(ui)
    base = {"csrf": csrf, "kind": "backtest", "strategy": "sma_cross", "data": "sample:GOOG"}
    bad_data = ui.post("/ui/new", data=base | {"data": "/etc/passwd"})
    assert bad_data.status_code == 422 and 'id="error-data"' in bad_data.text
    not_number = ui.post("/ui/new", data=base | {"sma_cross.fast": "ten"})
    assert not_number.status_code == 422 and "fast: &#39;ten&#39; is not a number" in not_number.text
    no_grid = ui.post("/ui/new", data=base | {"kind": "sweep", "sma_cross.fast": "10"})
    assert no_grid.status_code == 422 and "several values" in no_grid.text
    sweep = ui.post(
        "/ui/new",
        data=base | {"kind": "sweep", "sma_cross.fast": "5,10", "sma_cross.slow": "30,40"},
        follow_redirects=False,
    )
    assert sweep.status_code == 303
    run_id = sweep.headers["location"].rsplit("/", 1)[1]
    run = wait_for(ui, f"/v1/sweeps/{run_id}")
    assert run["status"] == "done" and run["result"]["points"] == 4
    page = ui.get(f"/ui/runs/{run_id}").text
    assert 'id="best"' in page and "source ui, by" in page and "ui:bob" in page
    assert ui.get(f"/ui/runs/{run_id}/status.json").json()["status"] == "done"
    assert ui.get("/ui/runs/nope").status_code == 404
    listed = ui.get("/ui/?kind=sweep&sort=return").text
    assert run_id in listed and ui.get("/ui/?kind=backtest").text.count('name="run"') == 0


@pytest.mark.req("DC-19")
def test_dc_19_desk_pages_say_what_is_missing_and_plotly_is_served_locally(ui):
    log_in(ui)
    assert "No trading session yet" in ui.get("/ui/trader").text
    assert ui.get("/ui/trader/state.json").json() is None
    assert "No stack has a release" in ui.get("/ui/gate").text
    operations = ui.get("/ui/operations").text
    assert "no backups yet" in operations and "no cleanup report yet" in operations
    asset = ui.get("/ui/static/plotly.min.js")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
    assert asset.text.startswith("/**\n* plotly.js v")
