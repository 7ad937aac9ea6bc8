"""Settings come from TRADEOPS_* variables and refuse unsafe combinations."""

from __future__ import annotations

import re

import pytest

from tradeops.errors import ConfigError
from tradeops.settings import load_settings


@pytest.mark.req("BT-1")
def test_bt_1_settings_read_the_environment_with_embedded_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_WORKERS", "3")
    settings = load_settings()
    assert settings.workers == 3
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/tradeops.db"
    assert settings.resolved_object_store == (tmp_path / "objects").resolve().as_uri()
    assert "a-long-secret-value-123" not in repr(load_settings(api_token="a-long-secret-value-123"))


@pytest.mark.req("BT-1")
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"environment": "prod"}, "api_token must be a real secret"),
        ({"environment": "prod", "api_token": "changeme"}, "api_token must be a real secret"),
        ({"slack_token": "xoxb-1"}, "set slack_token and slack_channel together"),
        ({"workers": 0}, "workers: Input should be greater than or equal to 1"),
    ],
)
def test_bt_1_unsafe_or_invalid_settings_are_refused(values, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(**values)


@pytest.mark.req("DW-3")
def test_dw_3_secrets_mounted_as_files_are_read_and_environment_wins(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "TRADEOPS_API_TOKEN").write_text("a-long-secret-from-a-file")
    (secrets / "TRADEOPS_DATABASE_URL").write_text("postgresql://u:Strong-db-pw-9137@db/tradeops")
    monkeypatch.setenv("TRADEOPS_SECRETS_DIR", str(secrets))
    settings = load_settings(environment="prod", object_store="s3://bucket/tradeops")
    assert settings.api_token.get_secret_value() == "a-long-secret-from-a-file"
    assert settings.resolved_database_url == "postgresql://u:Strong-db-pw-9137@db/tradeops"
    monkeypatch.setenv("TRADEOPS_API_TOKEN", "another-long-secret-from-env")
    assert load_settings().api_token.get_secret_value() == "another-long-secret-from-env"


@pytest.mark.req("DW-3")
def test_dw_3_no_secret_shows_in_the_settings_repr():
    settings = load_settings(
        database_url="postgresql://trader:s3cret-pw@db:5432/tradeops", api_token="a-real-token-0123456789"
    )
    text = repr(settings) + str(settings)
    assert "s3cret-pw" not in text and "a-real-token-0123456789" not in text
    assert settings.resolved_database_url.endswith("@db:5432/tradeops")


STRONG = {
    "api_token": "Zq8-vT3rK9pLm2Wx7Yb4",
    "database_url": "postgresql+psycopg://trader:Vx9-kq2Lm8Rt4@db:5432/tradeops",
    "object_store": "s3://bucket/tradeops",
}


@pytest.mark.req("DC-17")
@pytest.mark.parametrize("environment", ["staging", "prod"])
@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"api_token": "<redacted: a Pulumi secret>"}, "TRADEOPS_API_TOKEN: it contains spaces or angle brackets"),
        ({"api_token": " " * 16}, "TRADEOPS_API_TOKEN: it is empty or only spaces"),
        ({"api_token": "changemechangeme"}, "TRADEOPS_API_TOKEN: it is a known placeholder"),
        ({"api_token": "abababababababab"}, "TRADEOPS_API_TOKEN: it has fewer than 8 distinct characters"),
        ({"slack_signing_secret": "x"}, "TRADEOPS_SLACK_SIGNING_SECRET: it is shorter than 16 characters"),
        ({"database_url": "postgresql://trader:changeme@db/tradeops"}, "TRADEOPS_DATABASE_URL: its password"),
        ({"database_url": None}, "TRADEOPS_DATABASE_URL: must be set"),
        ({"database_url": "sqlite:////tmp/x.db"}, "TRADEOPS_DATABASE_URL: it is SQLite"),
        ({"object_store": None}, "TRADEOPS_OBJECT_STORE: must be set"),
    ],
)
def test_dc_17_staging_and_prod_refuse_weak_secrets_and_missing_urls(environment, change, names):
    values = {**STRONG, **change}
    with pytest.raises(ConfigError, match=f"refused in {environment}: .*{re.escape(names)}") as refused:
        load_settings(environment=environment, **{k: v for k, v in values.items() if v is not None})
    secret = str(change.get("api_token") or "").strip()
    assert len(secret) < 8 or secret not in str(refused.value)  # the reason, never the value


@pytest.mark.req("DC-17")
def test_dc_17_strong_settings_start_and_local_and_dev_keep_their_defaults(monkeypatch, capsys, tmp_path):
    from tests.apps.cli.test_cli import cli

    assert load_settings(environment="prod", **STRONG).environment == "prod"
    assert load_settings(environment="dev", api_token="a-dev-token-0123").resolved_database_url.startswith("sqlite")
    assert load_settings().resolved_database_url.startswith("sqlite")
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_ENVIRONMENT", "prod")
    monkeypatch.setenv("TRADEOPS_API_TOKEN", "changemechangeme")
    code, _, err = cli(monkeypatch, capsys, "backup", "list")
    assert code == 2 and "TRADEOPS_API_TOKEN: it is a known placeholder" in err and "Traceback" not in err
