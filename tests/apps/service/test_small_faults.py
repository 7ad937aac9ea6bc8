"""DC-16, the small ones: no Unix time from `since=0.5`, the guards' answers in the OpenAPI document, no
server path in a failed run, no secret in a settings dump (in-process client, real stores and workers)."""

from __future__ import annotations

import json

import pytest

from tests.apps.service.conftest import AUTH, TOKEN, wait_for
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings


@pytest.mark.req("DC-16")
def test_dc_16_since_takes_an_iso_time_and_refuses_a_bare_number(api):
    for number in ("0.5", "1700000000", "-3"):
        refused = api.get("/v1/backtests", params={"since": number})
        assert refused.status_code == 422 and "ISO 8601" in refused.text, (number, refused.text)
    assert api.get("/v1/backtests", params={"since": "2026-01-31T00:00:00Z"}).status_code == 200


@pytest.mark.req("DC-16")
def test_dc_16_the_openapi_document_lists_400_413_and_503_where_the_guards_may_answer(tmp_path):
    document = create_app(load_settings(data_dir=tmp_path, api_token=TOKEN)).openapi()
    create = document["paths"]["/v1/backtests"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429", "503"} <= set(create), sorted(create)
    assert "503" in document["paths"]["/v1/backtests"]["get"]["responses"]
    assert "413" not in document["paths"]["/healthz"]["get"]["responses"]


@pytest.mark.req("DC-16")
def test_dc_16_a_failed_run_does_not_show_the_server_paths(api, tmp_path):
    (tmp_path / "data" / "market").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "market" / "broken.csv").write_text("not,a\nbar,file\n")
    for data in ("missing.csv", "broken.csv"):
        accepted = api.post("/v1/backtests", json={"strategy": "sma_cross", "data": data}, headers=AUTH).json()
        failed = wait_for(api, accepted["url"])
        assert failed["status"] == "failed" and data in failed["error"], failed
        assert str(tmp_path) not in json.dumps(failed) and "/market/" not in failed["error"], failed["error"]


@pytest.mark.req("DC-16")
def test_dc_16_a_settings_dump_never_carries_the_database_password():
    settings = load_settings(database_url="postgresql://tradeops:s3cr3t-pw@db:5432/tradeops?password=also-secret")
    for dump in (settings.model_dump(), settings.model_dump(mode="json"), json.loads(settings.model_dump_json())):
        assert "s3cr3t-pw" not in str(dump) and "also-secret" not in str(dump)
        assert dump["database_url"] == "postgresql://tradeops:***@db:5432/tradeops?password=***"
    assert "s3cr3t-pw" in settings.resolved_database_url  # the process itself still connects with it


@pytest.mark.req("DC-16")
def test_dc_16_a_service_with_no_dependency_to_check_is_ready():
    import asyncio

    from prometheus_client import CollectorRegistry

    from tradeops.service.deadlines import DependencyCalls

    calls = DependencyCalls(1.0, CollectorRegistry())
    assert asyncio.run(calls.await_all({})) == {}  # asyncio.wait refuses an empty set: /readyz answered 500
    assert asyncio.run(calls.await_all({"db": lambda: 1}))["db"].result() == 1
