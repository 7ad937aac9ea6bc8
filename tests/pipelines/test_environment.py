"""Environment management: `tradeops config check` for a local run or a stack, and `.env.example` without drift."""

from __future__ import annotations

import json

import pytest
import yaml
from pipelines.environment import env_example, env_example_stale, stack_needs
from pipelines.infra.evaluate import STACKS

from tests.apps.cli.test_cli import cli
from tradeops.settings import variables


@pytest.mark.req("DW-3")
def test_dw_3_env_example_declares_every_setting_once_and_is_not_stale(monkeypatch, capsys, tmp_path):
    text = env_example()
    for variable in variables():  # a nested model's fields one by one, e.g. TRADEOPS_TRADER_MAX_DRAWDOWN_PCT
        assert text.count(f"# {variable.name}=") == 1 and variable.field.description in text
    assert "# TRADEOPS_WORKERS=2" in text and "# TRADEOPS_API_TOKEN=\n" in text  # defaults shown, secrets empty
    code, _, err = cli(monkeypatch, capsys, "config", "env-example", "--check")
    assert code == 0 and "matches" in err
    stale = tmp_path / ".env.example"
    stale.write_text(text.replace("TRADEOPS_WORKERS", "TRADEOPS_WORKER"))
    assert env_example_stale(stale) and env_example_stale(tmp_path / "gone")


@pytest.mark.req("DW-3")
def test_dw_3_config_check_of_a_local_run_names_the_bad_variable(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    code, out, _ = cli(monkeypatch, capsys, "config", "check", "--json")
    rows = {r["name"]: r["state"] for r in json.loads(out)}
    assert code == 0 and rows["TRADEOPS_DATA_DIR"] == "set" and rows["TRADEOPS_WORKERS"] == "default"
    assert rows["TRADEOPS_SLACK_TOKEN"] == "optional"
    monkeypatch.setenv("TRADEOPS_SLACK_TOKEN", "xoxb-1")
    monkeypatch.setenv("TRADEOPS_WORKERS", "0")
    code, out, err = cli(monkeypatch, capsys, "config", "check", "--json")
    ((row),) = json.loads(out)
    assert code == 1 and row["state"] == "invalid" and "workers" in row["note"] and "TRADEOPS_*" in err
    monkeypatch.delenv("TRADEOPS_WORKERS")
    code, out, err = cli(monkeypatch, capsys, "config", "check")
    assert code == 1 and "invalid" in out and "missing or invalid: TRADEOPS_*" in err


@pytest.mark.req("DW-3")
def test_dw_3_config_check_of_a_stack_lists_missing_secrets_settings_and_tools(monkeypatch, capsys, tmp_path):
    for name in ("TRADEOPS_OBJECT_STORE", "TRADEOPS_DATABASE_URL", "PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = cli(monkeypatch, capsys, "config", "check", "--stack", "prod", "--json")
    rows = {r["name"]: r["state"] for r in json.loads(out)}
    assert code == 1 and rows["tradeops:settings"] == "set"
    assert rows["tradeops:apiToken"] == "missing" and rows["tradeops:databaseUrl"] == "missing"
    assert rows["tradeops:slackToken"] == "missing"  # prod names a Slack channel
    assert rows["tradeops:mcpTokens"] == "missing"  # prod runs the MCP server, which needs its tokens
    assert rows["tradeops:brokerApiKey"] == "optional" and rows["TRADEOPS_OBJECT_STORE"] == "missing"
    assert "tradeops:apiToken" in err and "TRADEOPS_OBJECT_STORE" in err

    document = yaml.safe_load((STACKS / "Pulumi.prod.yaml").read_text())
    secure = {"secure": "v1:AAAABBBBCCCC"}
    document["config"] |= {f"tradeops:{k}": secure for k in ("apiToken", "databaseUrl", "slackToken")}
    document["config"]["tradeops:settings"]["services"]["trader"]["replicas"] = -1
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("TRADEOPS_OBJECT_STORE", "s3://releases/tradeops")
    needs = {n.name: n for n in stack_needs("prod", path)}
    assert {needs[f"tradeops:{k}"].state for k in ("apiToken", "databaseUrl", "slackToken")} == {"set"}
    assert needs["TRADEOPS_OBJECT_STORE"].state == "set"
    assert (
        needs["tradeops:settings"].state == "invalid" and "services.trader.replicas" in needs["tradeops:settings"].note
    )
