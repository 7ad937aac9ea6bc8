"""A real Prometheus scrapes a running backtester, evaluates our rendered rules and fires on induced faults.

The faults: the stack never made a backup, and the gate Job failed the stack's candidate. The scrape
adds the labels a ServiceMonitor scrape adds (namespace, pod, service); the RPO limit is shrunk to
seconds through the chart's own value so the never-backed-up alert fires within the test.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.apps.cli.test_cli import cli
from tests.apps.service.conftest import AUTH
from tests.fakes.servers import free_port, uvicorn_server
from tests.infra.alert_rules import tool, write_rules_file
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

pytestmark = pytest.mark.req("DC-52", "DC-51")

NAMESPACE = "tradeops-e2e"
RPO_HOURS = 0.002  # 7 s: TradeopsBackupMissing's `for`
EXPECTED = {"TradeopsBackupMissing", "TradeopsGateFailed"}


def prometheus_config(target: str, rules: Path) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": "tradeops-backtester",
                "static_configs": [
                    {
                        "targets": [target],
                        "labels": {
                            "namespace": NAMESPACE,
                            "pod": "tradeops-backtester-0",
                            "service": "tradeops-backtester",
                        },
                    }
                ],
            }
        ],
    }


@contextmanager
def prometheus(config: Path, data: Path, attempts: int = 5) -> Iterator[str]:
    """Run Prometheus on a free loopback port (it cannot bind port 0: a port is probed, and retried if taken)."""
    for _ in range(attempts):
        port = free_port()
        log = data.parent / f"prometheus-{port}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [
                    tool("prometheus"),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            while process.poll() is None:
                try:
                    if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            if process.poll() is not None:
                if "address already in use" in log.read_text():
                    continue  # another process took the port between the probe and the bind
                raise AssertionError(f"prometheus exited {process.returncode}: {log.read_text()[-2000:]}")
            yield url
            return
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(30)
    raise AssertionError(f"no free port for prometheus after {attempts} attempts")


def firing(url: str) -> dict[str, dict[str, str]]:
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return {a["labels"]["alertname"]: a["labels"] for a in alerts if a["state"] == "firing"}


def test_dc_52_dc_51_a_real_prometheus_fires_on_no_backup_ever_and_a_failing_stack_gate(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(data))
    code, _, _ = cli(  # the gate Job judges the stack's candidate: it fails its thresholds
        monkeypatch, capsys, "gate", "--strategy", "sma_cross", "--threshold", "min_sharpe=9", "--stack-verdict"
    )
    assert code == 1
    rules = write_rules_file(tmp_path / "rules.yaml", NAMESPACE, {"backupMaxAgeHours": RPO_HOURS})
    app = create_app(load_settings(data_dir=data, api_token=AUTH["Authorization"][7:]))
    with uvicorn_server(app) as backtester:
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump(prometheus_config(backtester.removeprefix("http://"), rules)))
        with prometheus(config, tmp_path / "tsdb") as url:
            deadline = time.monotonic() + 120  # a hang guard, not a speed limit: the alerts need about 8 s
            seen: dict[str, dict[str, str]] = {}
            while not set(seen) >= EXPECTED and time.monotonic() < deadline:
                time.sleep(0.5)
                seen = firing(url)
            rules_loaded = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert set(seen) >= EXPECTED, seen
    for name in EXPECTED:
        assert seen[name]["namespace"] == NAMESPACE and seen[name]["severity"]
    assert "TradeopsServiceDown" not in seen  # the backtester answered every scrape
    declared = yaml.safe_load(rules.read_text())["groups"]
    assert sum(len(g["rules"]) for g in rules_loaded) == sum(len(g["rules"]) for g in declared)  # all loaded
