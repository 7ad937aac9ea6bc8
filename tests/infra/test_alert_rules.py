"""Every alert, unit-tested with `promtool test rules` on the rules file the chart renders, per namespace.

Each alert has one case: a namespace with the fault and one without. The rules of the prod stack
must fire for prod's fault while staging is healthy (staging's good figures never hide prod's), and
stay quiet while only staging has the fault (another stack's fault is not ours). An alert with a
`for` is also quiet before it has lasted that long. Series carry the labels the Prometheus Operator
adds to a ServiceMonitor's targets (namespace, pod, service; a metric's own `service` label becomes
`exported_service`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import promql_parser
import pytest
import yaml

from tests.infra.alert_rules import alerting_rules, expand_annotations, promtool, write_rules_file

pytestmark = pytest.mark.req("DC-52")

PROD, STAGING = "tradeops-prod", "tradeops-staging"
Series = tuple[str, str]  # (series in PromQL notation, values in promtool's expanding notation)


def series(name: str, namespace: str, values: str, **labels: str) -> Series:
    pairs = {"namespace": namespace} | labels
    return name + "{" + ", ".join(f'{key}="{value}"' for key, value in pairs.items()) + "}", values


def target(component: str) -> dict[str, str]:
    """The labels a ServiceMonitor scrape of `component` adds."""
    return {"pod": f"tradeops-{component}-7d9f8", "service": f"tradeops-{component}", "job": f"tradeops-{component}"}


@dataclass(frozen=True)
class Case:
    alert: str
    fault: Callable[[str], list[Series]]  # a namespace's series when it has the fault
    healthy: Callable[[str], list[Series]]  # ... and when it has not
    labels: Callable[[str], dict[str, str]]  # the labels of the alert on the faulty namespace (rule labels aside)
    at: str  # when the alert must be firing
    before: str | None = None  # when it must still be pending (its `for` not yet over)
    interval: str = "1m"


BACKTESTER, TRADER = target("backtester"), target("trader")
ROUTE = {"route": "/v1/backtests"}
SESSION = {"session": "tradeops-prod-4f2a"}


def http(namespace: str, failures: str, slow: bool) -> list[Series]:
    count = "tradeops_http_request_seconds_count"
    bucket = "tradeops_http_request_seconds_bucket"
    fast_bucket = "0x30" if slow else "0+6x30"
    return [
        series(count, namespace, failures, code="500", **BACKTESTER, **ROUTE),
        series(count, namespace, "0+6x30", code="200", **BACKTESTER, **ROUTE),
        series(bucket, namespace, fast_bucket, le="1", **BACKTESTER, **ROUTE),
        series(bucket, namespace, "0+6x30", le="5", **BACKTESTER, **ROUTE),
        series(bucket, namespace, "0+6x30", le="+Inf", **BACKTESTER, **ROUTE),
    ]


def verified_backup(namespace: str) -> Series:
    """A backup verified every hour: the newest is always fresh."""
    return series("tradeops_backup_last_verified_timestamp_seconds", namespace, "1+3600x40", **BACKTESTER)


def only(name: str, fault: str, healthy: str, **labels: str) -> tuple[Callable[[str], list[Series]], ...]:
    """Fault and healthy series of one metric."""
    return (lambda ns: [series(name, ns, fault, **labels)]), (lambda ns: [series(name, ns, healthy, **labels)])


def scrape_labels(**labels: str) -> Callable[[str], dict[str, str]]:
    return lambda ns: {"namespace": ns} | labels


def per_series(alert: str, name: str, fault: str, healthy: str, **labels: str) -> Case:
    """An alert on one gauge whose alert keeps the series' labels; `for` 5 minutes or less."""
    return Case(alert, *only(name, fault, healthy, **labels), scrape_labels(**labels), at="10m", before="3m")


HEARTBEAT = "tradeops_heartbeat_timestamp_seconds"
CASES = [
    per_series("TradeopsServiceDown", "up", "0x15", "1x15", **BACKTESTER),
    per_series("TradeopsNotReady", "tradeops_ready", "0x15", "1x15", exported_service="backtester", **BACKTESTER),
    # the healthy loop beats every minute; the stuck one beat once, at 0
    per_series("TradeopsHeartbeatStale", HEARTBEAT, "0x15", "0+60x15", exported_service="trader", **TRADER),
    per_series("TradeopsFeedStalled", "tradeops_trader_feed_stalled", "1x15", "0x15", feed="synthetic-1d", **TRADER),
    Case(
        "TradeopsErrorRateHigh",  # half the requests fail
        lambda ns: http(ns, "0+6x30", slow=False),
        lambda ns: http(ns, "0x30", slow=False),
        scrape_labels(),
        at="20m",
        before="5m",
    ),
    Case(
        "TradeopsSlowApi",  # every request between 1 and 5 s: p95 4.8 s
        lambda ns: http(ns, "0x30", slow=True),
        lambda ns: http(ns, "0x30", slow=False),
        scrape_labels(**ROUTE),
        at="20m",
        before="5m",
    ),
    Case(
        "TradeopsJobsFailing",  # one failed job a minute
        *only("tradeops_jobs_total", "0+1x90", "0x90", outcome="failed", **BACKTESTER),
        scrape_labels(),
        at="70m",
    ),
    Case(
        "TradeopsGateFailed",
        *only("tradeops_gate_last_passed", "0x5", "1x5", **BACKTESTER),
        scrape_labels(),
        at="2m",
    ),
    Case(
        "TradeopsBackupStale",  # the newest verified backup was made at 0
        *only("tradeops_backup_last_verified_timestamp_seconds", "0x40", "1+3600x40", **BACKTESTER),
        scrape_labels(),
        at="30h",
        interval="1h",
    ),
    Case(
        "TradeopsBackupMissing",  # the stack never verified a backup: no timestamp at all
        lambda ns: [series("tradeops_backups", ns, "0x40", **BACKTESTER)],
        lambda ns: [series("tradeops_backups", ns, "1x40", **BACKTESTER), verified_backup(ns)],
        scrape_labels(),
        at="30h",
        before="25h",
        interval="1h",
    ),
    Case(
        "TradeopsBackupNeverVerified",
        lambda ns: [series("tradeops_backups", ns, "2x200", **BACKTESTER)],
        lambda ns: [
            series("tradeops_backups", ns, "2x200", **BACKTESTER),
            series("tradeops_backup_last_verified_timestamp_seconds", ns, "1+60x200", **BACKTESTER),
        ],
        scrape_labels(),
        at="150m",
        before="60m",
    ),
    Case(
        "TradeopsBackupCorrupt",
        *only("tradeops_backups_corrupt", "1x5", "0x5", **BACKTESTER),
        scrape_labels(),
        at="2m",
    ),
    Case(
        "TradeopsBackupVerifyFailed",
        *only("tradeops_backups_verify_failed", "1x5", "0x5", **BACKTESTER),
        scrape_labels(),
        at="2m",
    ),
    Case(
        "TradeopsBackupMetricsFailing",  # every scrape fails to read the store
        *only("tradeops_backup_metrics_errors_total", "0+1x90", "0x90", **BACKTESTER),
        scrape_labels(),
        at="70m",
        before="20m",
    ),
    Case(
        "TradeopsTraderNotRunning",
        lambda ns: [
            series("tradeops_trader_state", ns, "1x10", state="halted", **SESSION, **TRADER),
            series("tradeops_trader_state", ns, "0x10", state="running", **SESSION, **TRADER),
        ],
        lambda ns: [
            series("tradeops_trader_state", ns, "0x10", state="halted", **SESSION, **TRADER),
            series("tradeops_trader_state", ns, "1x10", state="running", **SESSION, **TRADER),
        ],
        scrape_labels(state="halted", **SESSION),
        at="5m",
    ),
    Case(
        "TradeopsTraderDiverging",  # 80 bps of equity drift against a 50 bps limit
        lambda ns: [
            series("tradeops_trader_divergence_equity_drift_bps", ns, "-80x30", **SESSION, **TRADER),
            series("tradeops_trader_divergence_slippage_bps", ns, "5x30", **SESSION, **TRADER),
        ],
        lambda ns: [
            series("tradeops_trader_divergence_equity_drift_bps", ns, "-10x30", **SESSION, **TRADER),
            series("tradeops_trader_divergence_slippage_bps", ns, "5x30", **SESSION, **TRADER),
        ],
        scrape_labels(**SESSION, **TRADER),
        at="20m",
        before="10m",
    ),
]


def input_series(*groups: list[Series]) -> list[dict[str, str]]:
    return [{"series": name, "values": values} for group in groups for name, values in group]


def promtool_groups(case: Case, rule: dict[str, Any]) -> list[dict[str, Any]]:
    """promtool test groups: prod's fault fires (staging healthy), staging's fault stays quiet for prod."""
    labels = case.labels(PROD) | rule.get("labels", {})
    expected = {"exp_labels": labels, "exp_annotations": expand_annotations(rule, labels)}
    fires = [{"eval_time": case.at, "alertname": case.alert, "exp_alerts": [expected]}]
    if case.before is not None:
        fires.insert(0, {"eval_time": case.before, "alertname": case.alert, "exp_alerts": []})
    quiet = [{"eval_time": case.at, "alertname": case.alert, "exp_alerts": []}]
    return [
        {
            "name": f"{case.alert}: prod's fault fires while staging is healthy",
            "interval": case.interval,
            "input_series": input_series(case.fault(PROD), case.healthy(STAGING)),
            "alert_rule_test": fires,
        },
        {
            "name": f"{case.alert}: staging's fault stays quiet in prod's rules",
            "interval": case.interval,
            "input_series": input_series(case.healthy(PROD), case.fault(STAGING)),
            "alert_rule_test": quiet,
        },
    ]


def test_dc_52_promtool_proves_every_alert_fires_and_stays_quiet_per_namespace(tmp_path):
    rules = alerting_rules(PROD)
    assert sorted(c.alert for c in CASES) == sorted(rules), "every declared alert has exactly one case"
    rules_file = write_rules_file(tmp_path / "rules.yaml", PROD)
    tests = [group for case in CASES for group in promtool_groups(case, rules[case.alert])]
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": [rules_file.name], "tests": tests}))
    assert promtool("check", "rules", rules_file.name, cwd=tmp_path).returncode == 0
    done = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    evaluations = sum(len(group["alert_rule_test"]) for group in tests)  # fires, quiet, and pending where `for`
    assert len(tests) == 2 * len(rules) and evaluations == 2 * len(rules) + sum(c.before is not None for c in CASES)


def selectors(node: Any) -> list[Any]:
    """Every vector selector of a parsed PromQL expression."""
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item).__name__ == "VectorSelector":
            found.append(item)
        for name in ("expr", "lhs", "rhs", "param", "vector_selector"):
            child = getattr(item, name, None)
            if child is not None:
                stack.append(child)
        stack.extend(getattr(item, "args", None) or [])
    return found


def test_dc_52_every_selector_of_every_alert_names_the_stacks_namespace():
    for alert, rule in alerting_rules(PROD).items():
        found = selectors(promql_parser.parse(rule["expr"]))
        assert found, alert
        for selector in found:
            matchers = {(m.name, str(m.op), m.value) for m in selector.matchers.matchers}
            assert ("namespace", "MatchOp.Equal", PROD) in matchers, (alert, selector.prettify())
