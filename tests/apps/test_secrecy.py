"""Staging and prod refuse every guessable secret the services read, wherever it hides (issue 27 item 8)."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr

from tests.apps.cli.test_cli import cli
from tradeops.errors import ConfigError
from tradeops.settings import AppSettings, load_settings

STRONG = {
    "api_token": "Zq8-vT3rK9pLm2Wx7Yb4",
    "database_url": "postgresql+psycopg://trader:Vx9-kq2Lm8Rt4@db:5432/tradeops",
    "object_store": "s3://bucket/tradeops",
}
COMPANIONS = {  # settings refused unless set together, with a strong partner
    "slack_token": {"slack_channel": "#desk"},
    "broker_api_key": {"broker_kind": "ccxt", "broker_api_secret": "Kp4-xR8mVq2Tz7Lw9Nb3"},
    "broker_api_secret": {"broker_kind": "ccxt", "broker_api_key": "Kp4-xR8mVq2Tz7Lw9Nb3"},
}
STRONG_TOKEN = "9f2c41d7b08e4a6c93e5d1f7a2b86c04"
GUESSABLE = ["1234567890abcdef", "Password1234567890", "qwertyuiopasdfgh", "Trader2024Trader2024"]


def refusal(**values: object) -> str:
    with pytest.raises(ConfigError) as refused:
        load_settings(environment="prod", **(STRONG | values))
    message = str(refused.value)
    assert "\n" not in message
    return message


@pytest.mark.req("DC-60")
@pytest.mark.parametrize("value", GUESSABLE)
def test_dc_60_prod_refuses_a_long_but_guessable_api_token_without_echoing_it(value):
    message = refusal(api_token=value)
    assert "TRADEOPS_API_TOKEN: it is guessable in about 10^" in message and value not in message


SECRET_FIELDS = sorted(name for name, field in AppSettings.model_fields.items() if field.annotation == SecretStr | None)


@pytest.mark.req("DC-60")
@pytest.mark.parametrize("name", SECRET_FIELDS)
def test_dc_60_every_secret_setting_is_checked_in_prod(name):
    assert {"api_token", "mcp_tokens", "slack_signing_secret", "broker_api_secret"} <= set(SECRET_FIELDS)
    value = "alice=1234567890abcdef" if name == "mcp_tokens" else "1234567890abcdef"
    message = refusal(**{name: value}, **COMPANIONS.get(name, {}))
    assert f"TRADEOPS_{name.upper()}" in message and "guessable" in message and "1234567890abcdef" not in message


@pytest.mark.req("DC-60")
@pytest.mark.parametrize(
    ("tokens", "found"),
    [
        ("alice=changeme-changeme-1", "TRADEOPS_MCP_TOKENS pair 1 (alice): it is a known placeholder"),
        (f"alice={STRONG_TOKEN},bob=Password1234567890", "TRADEOPS_MCP_TOKENS pair 2 (bob): it is guessable"),
        (f"alice={STRONG_TOKEN},bob", "TRADEOPS_MCP_TOKENS pair 2: not PRINCIPAL=TOKEN"),
    ],
)
def test_dc_60_prod_refuses_placeholder_and_guessable_mcp_tokens(tokens, found):
    message = refusal(mcp_tokens=tokens)
    assert found in message and "changeme-changeme-1" not in message and "Password1234567890" not in message


@pytest.mark.req("DC-60")
def test_dc_60_the_mcp_server_will_not_start_in_prod_on_placeholder_tokens(tmp_path, monkeypatch, capsys):
    environment = STRONG | {"environment": "prod", "data_dir": tmp_path, "mcp_tokens": "alice=changeme-changeme-1"}
    for name, value in environment.items():
        monkeypatch.setenv(f"TRADEOPS_{name.upper()}", str(value))
    code, out, err = cli(monkeypatch, capsys, "serve", "mcp", "--host", "203.0.113.1")  # unbindable: never serves
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "TRADEOPS_MCP_TOKENS pair 1 (alice): it is a known placeholder" in err and "changeme-changeme-1" not in err


@pytest.mark.req("DC-60")
@pytest.mark.parametrize(
    ("setting", "url", "found"),
    [
        ("database_url", "postgresql://trader@db/tradeops?password=changeme", "its password= parameter is too weak"),
        ("database_url", "postgresql://db/tradeops?sslmode=require&PASSWORD=Password1234", "password= parameter"),
        ("database_url", "postgresql://trader:chan%67eme-chan%67eme@db/tradeops", "its password is too weak"),
        ("database_url", "postgresql://trader:@db/tradeops", "its password is too weak: it is empty"),
        ("database_url", "postgresql://trader:Vx9-kq2Lm8Rt4@db/t?password=123456789012", "password= parameter"),
        ("promotion_ledger_url", "postgresql://trader:1234567890ab@db/staging", "TRADEOPS_PROMOTION_LEDGER_URL"),
    ],
)
def test_dc_60_database_urls_are_parsed_fully_for_passwords(setting, url, found):
    message = refusal(**{setting: url})
    assert found in message
    assert not any(weak in message for weak in ("changeme", "Password1234", "chan%67eme", "123456789012"))


@pytest.mark.req("DC-60")
def test_dc_60_random_secrets_everywhere_start_in_prod():
    settings = load_settings(
        environment="prod",
        api_token=secrets.token_urlsafe(24),
        database_url=f"postgresql://trader@db/tradeops?sslmode=require&password={secrets.token_hex(12)}",
        promotion_ledger_url=f"postgresql://reader:{secrets.token_hex(12)}@db/staging",
        object_store="s3://bucket/tradeops",
        mcp_tokens=f"alice={secrets.token_hex(16)}, bob={secrets.token_urlsafe(20)}",
        slack_token=f"xoxb-{secrets.token_hex(20)}",
        slack_channel="#desk",
        slack_signing_secret=secrets.token_hex(16),
        github_token=f"ghp_{secrets.token_urlsafe(27)}",
    )
    assert settings.environment == "prod"
    assert load_settings(environment="dev", api_token="1234567890abcdef").environment == "dev"  # dev keeps its ease
