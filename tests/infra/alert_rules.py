"""Our alert rules as Prometheus loads them: rendered from the chart the stack installs, written as a rules file.

The rules file is the `spec` of the rendered PrometheusRule (what the Prometheus Operator hands to
Prometheus), never a copy kept by hand; `promtool` and a real Prometheus read that file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "tradeops-alerts"
LABEL_REFERENCE = re.compile(r"\{\{ \$labels\.([a-z_]+) \}\}")


def prometheus_rule(namespace: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The PrometheusRule the chart renders for a stack in `namespace`."""
    rendered = helm.Chart.load(str(CHART)).render(values or {}, name="tradeops-alerts", namespace=namespace)
    return next(yaml.safe_load(text) for path, text in rendered.items() if path.endswith("rules.yaml"))


def alerting_rules(namespace: str, values: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Alert name -> rule, for every alerting rule of every group."""
    groups = prometheus_rule(namespace, values)["spec"]["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def write_rules_file(path: Path, namespace: str, values: dict[str, Any] | None = None) -> Path:
    """Write the rendered rule groups as a Prometheus rules file; return its path."""
    path.write_text(yaml.safe_dump({"groups": prometheus_rule(namespace, values)["spec"]["groups"]}, sort_keys=False))
    return path


def expand_annotations(rule: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    """The annotations Prometheus sends for an alert with `labels` (our templates only read `$labels.NAME`)."""
    expanded = {}
    for name, template in rule.get("annotations", {}).items():
        text = LABEL_REFERENCE.sub(lambda match: labels[match.group(1)], template)
        assert "{{" not in text, f"{rule['alert']}: {name} uses a template this helper does not expand: {template}"
        expanded[name] = text
    return expanded


def tool(name: str) -> str:
    """The path of a Debian `prometheus` package binary; a missing one fails the test (installed by `make setup`)."""
    found = shutil.which(name)
    assert found, f"{name} is not installed: run `make system-packages` (Debian package `prometheus`)"
    return found


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, check=False)
