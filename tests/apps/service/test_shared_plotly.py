"""Stored reports load one shared, content-hashed plotly bundle from the backtester; CLI reports stay self-contained."""

from __future__ import annotations

import re

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH, wait_for
from tradeops.reports.embed import plotly_asset, plotly_js

pytestmark = pytest.mark.req("DC-49")
BACKTEST = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}
SHARED = re.compile(r'<script src="(/v1/assets/plotly-[0-9a-f]{16}\.min\.js)"></script>')


def test_dc_49_a_stored_report_names_the_shared_plotly_bundle_the_backtester_serves_for_good(api):
    run = wait_for(api, api.post("/v1/backtests", json=BACKTEST, headers=AUTH).json()["url"])
    report = api.get(run["report_url"]).text
    (src,) = SHARED.findall(report)
    assert len(report) < len(plotly_js()) / 10 and plotly_js()[:2000] not in report  # no copy of its own
    asset = api.get(src)
    assert asset.status_code == 200 and asset.text == plotly_js()
    assert asset.headers["content-type"].startswith("text/javascript")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert api.app.state.objects.get(f"assets/{plotly_asset()[0]}") == plotly_js().encode()  # kept for later releases
    assert api.get("/v1/assets/plotly-0000000000000000.min.js").status_code == 404
    assert api.get("/v1/assets/report.html").status_code == 404


def test_dc_49_a_bundle_an_older_release_stored_is_still_served_to_its_reports(api):
    api.app.state.objects.put("assets/plotly-00000000000000aa.min.js", b"/* older plotly */", "text/javascript")
    served = api.get("/v1/assets/plotly-00000000000000aa.min.js")
    assert served.status_code == 200 and served.text == "/* older plotly */"


def test_dc_49_a_gate_report_from_the_api_names_the_shared_bundle_too(api):
    run = wait_for(api, api.post("/v1/gate", json=BACKTEST, headers=AUTH).json()["url"])
    assert len(SHARED.findall(api.get(run["report_url"]).text)) == 1


def test_dc_49_the_cli_report_file_stays_self_contained(monkeypatch, capsys, tmp_path):
    report = tmp_path / "report.html"
    code, _, _ = cli(
        monkeypatch, capsys, "backtest", "run", "-s", "sma_cross", "-d", "sample:GOOG", "--report", str(report)
    )
    page = report.read_text()
    assert code == 0 and plotly_js() in page and not SHARED.findall(page) and "/v1/assets" not in page
