"""The stack configuration is validated whole, before any resource is declared."""

from __future__ import annotations

import copy
import json

import pytest
from infra.config import StackConfigError, parse_stack_config
from pipelines.infra.evaluate import evaluate, stack_config

BASE = stack_config("dev")["tradeops:settings"]


def broken(path: list[str], value: object) -> dict:
    raw = copy.deepcopy(BASE)
    target = raw
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return raw


@pytest.mark.req("DW-3", "DC-1")
@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["replicas"], 2, "replicas: Extra inputs are not permitted"),
        (
            ["services", "trader", "replicas"],
            -1,
            "services.trader.replicas: Input should be greater than or equal to 0",
        ),
        (["candidate", "params"], {"fast": 40, "slow": 20}, "fast (40) must be less than slow (20)"),
        (["backup", "schedule"], "every night", "backup.schedule: 'every night' is not a 5-field cron expression"),
        (["cleanup", "schedule"], "61 * * * *", None),
        (["namespace"], "Tradeops_Dev", "namespace: String should match pattern"),
        (["services", "backtester", "resources", "memory_limit"], "lots", "memory_limit: String should match pattern"),
    ],
)
def test_dw_3_dc_1_bad_stack_config_fails_with_key_path_and_reason(path, value, message):
    raw = broken(path, value)
    if message is None:  # a syntactically valid but odd cron is accepted by the 5-field rule
        parse_stack_config(raw, "v1")
        return
    with pytest.raises(StackConfigError) as raised:
        parse_stack_config(raw, "v1")
    assert message in str(raised.value)


@pytest.mark.req("DW-3", "DC-1")
def test_dw_3_dc_1_the_program_refuses_a_bad_config_before_declaring_anything():
    config = stack_config("dev")
    config["tradeops:settings"] = broken(["services", "trader", "replicas"], -1)
    with pytest.raises(Exception, match=r"services\.trader\.replicas"):
        evaluate("dev", config=config)
    with pytest.raises(StackConfigError, match="must be a mapping"):
        parse_stack_config(None, "v1")
    config["tradeops:settings"] = broken(["services", "trader", "replicas"], 2)
    with pytest.raises(Exception, match="single writer"):
        evaluate("dev", config=config)
    config["tradeops:settings"] = broken(["risk", "max_drawdown_pct"], 150)
    with pytest.raises(Exception, match=r"risk\.max_drawdown_pct"):
        evaluate("dev", config=config)


@pytest.mark.req("DW-3")
def test_dw_3_stacks_differ_only_where_they_must(evaluations):
    configs = {name: stack_config(name)["tradeops:settings"] for name in ("dev", "staging", "prod")}
    allowed = {
        "namespace",
        "environment",
        "image",
        "services",
        "candidate",
        "risk",
        "gate_timeout_seconds",
        "backup",
        "cleanup",
        "market_data",
        "platform",
        "slack_channel",
        "slack_writers",
        "mcp_writers",
        "git_remote",
        "github_repo",
        "promotion",
    }
    for raw in configs.values():
        assert set(raw) <= allowed
    parsed = {name: parse_stack_config(raw, name) for name, raw in configs.items()}
    assert (
        parsed["prod"].candidate.thresholds.profitability.min_sharpe
        > parsed["dev"].candidate.thresholds.profitability.min_sharpe
    )
    assert parsed["prod"].services.backtester.replicas >= parsed["dev"].services.backtester.replicas
    assert {p.candidate.strategy for p in parsed.values()} == {"sma_cross"}
    assert parsed["prod"].promotion is not None and parsed["prod"].promotion.from_stage == "staging"
    assert parsed["dev"].promotion is None and parsed["staging"].promotion is None  # merges deploy those


POLICY = {"from": "staging", "min_soak_hours": 24, "max_divergence_bps": 50, "approvals": 1}


@pytest.mark.req("DC-22")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"from": "qa"}, "promotion.from: String should match pattern"),
        ({"min_soak_hours": -1}, "promotion.min_soak_hours: Input should be greater than or equal to 0"),
        ({"windows": [{"start": "17:00", "end": "09:00", "timezone": "Mars/Olympus"}]}, "is not an IANA time zone"),
        ({"windows": [{"days": ["funday"], "start": "17:00", "end": "09:00"}]}, "promotion.windows.0.days.0"),
        (
            {"freezes": [{"start": "2026-12-31", "end": "2026-12-24", "reason": "x"}]},
            "ends (2026-12-24) before it starts",
        ),
        ({"freezes": [{"start": "2026-12-24", "end": "2026-12-31"}]}, "promotion.freezes.0.reason: Field required"),
        ({"approvals": 1, "soak": 3}, "promotion.soak: Extra inputs are not permitted"),
    ],
)
def test_dc_22_a_bad_promotion_policy_fails_with_key_path_and_reason(change, message):
    with pytest.raises(StackConfigError) as error:
        parse_stack_config(broken(["promotion"], POLICY | change), "v1")
    assert message in str(error.value)


@pytest.mark.req("DW-3", "DC-1")
def test_dw_3_dc_1_required_secrets_must_be_set(monkeypatch):
    import pipelines.infra.evaluate as evaluator

    monkeypatch.setattr(evaluator, "SECRET_PLACEHOLDER", None)
    config = stack_config("dev")

    def without_placeholders(flat_config, secret_keys):
        flat = {k: v for k, v in flat_config.items() if v is not None}
        return original(flat, secret_keys)

    original = evaluator.pulumi.runtime.set_all_config
    monkeypatch.setattr(evaluator.pulumi.runtime, "set_all_config", without_placeholders)
    with pytest.raises(Exception, match="apiToken"):
        evaluate("dev", config=config)


@pytest.mark.req("OE-3", "DW-3")
def test_oe_3_dw_3_the_slackbot_gets_its_writers_repository_and_backtester_from_the_stack():
    from infra.components.settings import settings_values

    raw = stack_config("prod")["tradeops:settings"]
    values = settings_values(parse_stack_config(raw, "v1"), "v1")
    assert values["TRADEOPS_GIT_REMOTE"] == "https://github.com/tradeops-desk/tradeops.git"
    assert values["TRADEOPS_GITHUB_REPO"] == "tradeops-desk/tradeops"
    assert values["TRADEOPS_BACKTESTER_URL"].startswith("http://tradeops-backtester:")
    assert "TRADEOPS_SLACK_WRITERS" not in values  # nobody may write until the stack names someone
    writers = parse_stack_config(raw | {"slack_writers": ["U0123ABC", "S0456DEF"]}, "v1")
    assert settings_values(writers, "v1")["TRADEOPS_SLACK_WRITERS"] == "U0123ABC,S0456DEF"
    with pytest.raises(StackConfigError, match=r"slack_writers\.0"):
        parse_stack_config(raw | {"slack_writers": ["#trading"]}, "v1")


@pytest.mark.req("DC-14")
def test_dc_14_prod_refuses_a_bundled_sample_and_staging_and_prod_gate_on_datasets():
    raw = stack_config("prod")["tradeops:settings"]
    for stack in ("staging", "prod"):
        assert parse_stack_config(stack_config(stack)["tradeops:settings"], stack).candidate.data.startswith("dataset:")
    sample = json.loads(json.dumps(raw))
    sample["candidate"]["data"] = "sample:GOOG"
    with pytest.raises(StackConfigError, match="prod gates and trades on market data"):
        parse_stack_config(sample, "v1")
    twice = json.loads(json.dumps(raw))
    twice["market_data"]["datasets"] *= 2
    with pytest.raises(StackConfigError, match="dataset names must be unique"):
        parse_stack_config(twice, "v1")
    dev = stack_config("dev")["tradeops:settings"]
    assert parse_stack_config(dev, "dev").candidate.data == "sample:GOOG"  # dev may keep samples


@pytest.mark.req("DC-24")
def test_dc_24_a_venue_broker_is_configured_per_stack_and_real_money_only_in_prod():
    from infra.components.settings import settings_values
    from infra.config import broker_secrets

    from tradeops.settings import load_settings

    dev = parse_stack_config(BASE, "v1")
    assert dev.broker.kind == "paper" and broker_secrets(dev) == ()
    assert "TRADEOPS_BROKER_KIND" not in settings_values(dev, "v1")
    venue = {"kind": "ccxt", "exchange": "binance", "sandbox": True, "symbols": {"BTCUSDT": "BTC/USDT"}}
    sandboxed = parse_stack_config(BASE | {"broker": venue}, "v1")
    assert broker_secrets(sandboxed) == ("brokerApiKey", "brokerApiSecret")
    values = settings_values(sandboxed, "v1")
    settings = load_settings(
        broker_kind=values["TRADEOPS_BROKER_KIND"],
        broker_sandbox=values["TRADEOPS_BROKER_SANDBOX"],
        broker_symbols=json.loads(values["TRADEOPS_BROKER_SYMBOLS"]),
        broker_api_key="k" * 24,
        broker_api_secret="s" * 24,
    )
    assert (
        settings.broker_kind == "ccxt"
        and settings.broker_sandbox
        and settings.broker_symbols == {"BTCUSDT": "BTC/USDT"}
    )
    assert not any("KEY" in name or "SECRET" in name for name in values if name.startswith("TRADEOPS_BROKER"))
    with pytest.raises(StackConfigError, match="only prod may"):
        parse_stack_config(BASE | {"broker": venue | {"sandbox": False}}, "v1")
    with pytest.raises(StackConfigError, match=r"broker\.kind"):
        parse_stack_config(BASE | {"broker": {"kind": "alpaca"}}, "v1")


@pytest.mark.req("DC-57")
def test_dc_57_the_program_carries_a_stored_bundles_id_as_given_and_refuses_a_malformed_one():
    config = stack_config("staging")
    inputs = {"git_sha": "a" * 40, "verdict_id": "verdict-1", "dataset": {"ref": "dataset:btc"}}
    config |= {"tradeops:version": "v1", "tradeops:bundle": inputs}
    computed = _gate_annotations(evaluate("staging", config=config))["tradeops.io/bundle-id"]
    given = "bundle-" + "0123456789ab" * 2
    assert computed.startswith("bundle-") and computed != given  # a new bundle: computed from its parts

    annotations = _gate_annotations(evaluate("staging", config=config | {"tradeops:bundleId": given}))

    assert annotations["tradeops.io/bundle-id"] == given  # a stored one: never recomputed from today's models
    with pytest.raises(Exception, match="tradeops:bundleId 'bundle-nope' is not a bundle id"):
        evaluate("staging", config=config | {"tradeops:bundleId": "bundle-nope"})


def _gate_annotations(evaluation) -> dict[str, str]:
    job = next(r for r in evaluation.resources if r.type == "kubernetes:batch/v1:Job" and r.name == "gate-job")
    return job.inputs["spec"]["template"]["metadata"]["annotations"]
