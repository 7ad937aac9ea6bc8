"""Settings come from TRADEOPS_* variables and refuse unsafe combinations."""

from __future__ import annotations

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
    (secrets / "TRADEOPS_DATABASE_URL").write_text("postgresql://u:p@db/tradeops")
    monkeypatch.setenv("TRADEOPS_SECRETS_DIR", str(secrets))
    settings = load_settings(environment="prod")
    assert settings.api_token.get_secret_value() == "a-long-secret-from-a-file"
    assert settings.resolved_database_url == "postgresql://u:p@db/tradeops"
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
