"""Our own chart (alert rules and dashboard) renders and lints with Helm's real engine (helm-python-sdk)."""

from __future__ import annotations

import json
from pathlib import Path

import helm_python as helm
import pytest
import yaml
from infra.components.platform import REPOSITORIES

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "tradeops-alerts"


@pytest.mark.req("OE-4", "DC-1")
def test_oe_4_dc_1_alert_chart_lints_clean_and_renders_rules_and_dashboard():
    report = helm.lint(str(CHART), strict=True, kube_version="v1.31.0")
    assert report["errors"] == [] and not [m for m in report["messages"] if m["severity"] >= 2], report
    rendered = helm.Chart.load(str(CHART)).render(
        {"backupMaxAgeHours": 12}, name="tradeops-alerts", namespace="tradeops-prod", is_install=True
    )
    documents = {path.rsplit("/", 1)[-1]: yaml.safe_load(text) for path, text in rendered.items()}
    rules = documents["rules.yaml"]
    assert rules["kind"] == "PrometheusRule"
    alerts = {r["alert"]: r for r in rules["spec"]["groups"][0]["rules"]}
    assert set(alerts) == {
        "TradeopsServiceDown",
        "TradeopsNotReady",
        "TradeopsFeedStalled",
        "TradeopsHeartbeatStale",
        "TradeopsErrorRateHigh",
        "TradeopsSlowApi",
        "TradeopsJobsFailing",
        "TradeopsGateFailed",
        "TradeopsBackupStale",
        "TradeopsBackupMissing",
        "TradeopsBackupNeverVerified",
        "TradeopsBackupCorrupt",
        "TradeopsBackupVerifyFailed",
        "TradeopsBackupMetricsFailing",
        "TradeopsTraderNotRunning",
        "TradeopsTraderDiverging",
    }
    assert alerts["TradeopsBackupStale"]["expr"].endswith("> 43200")
    assert alerts["TradeopsBackupMissing"]["for"] == "43200s"
    assert 'namespace="tradeops-prod"' in alerts["TradeopsServiceDown"]["expr"]
    dashboard = documents["dashboard.yaml"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    panels = json.loads(dashboard["data"]["tradeops.json"])["panels"]
    assert {"tradeops_http_request_seconds_bucket", "tradeops_jobs_total"} <= {
        word.split("{")[0].split("[")[0]
        for p in panels
        for t in p["targets"]
        for word in t["expr"].replace("(", " ").split()
    }


@pytest.mark.req("DC-1")
def test_dc_1_platform_charts_are_pinned(evaluations):
    releases = [  # the cluster-wide monitoring stack is installed by one stack only (DC-54)
        r for e in evaluations.values() for r in e.resources if r.type == "kubernetes:helm.sh/v3:Release"
    ]
    assert {r.inputs["chart"].rsplit("/", 1)[-1] for r in releases} == {*REPOSITORIES, "tradeops-alerts"}
    for release in releases:
        if release.inputs["chart"] in REPOSITORIES:
            assert release.inputs["version"].count(".") == 2 and release.inputs["repositoryOpts"]["repo"].startswith(
                "https://"
            )
        assert release.inputs["atomic"] is True
