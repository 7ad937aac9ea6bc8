"""Schema-driven fuzzing: schemathesis generates requests from the published OpenAPI document; no 5xx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
import schemathesis.specs.openapi.schemas  # see below: imported at collection
from hypothesis import HealthCheck, given, settings

from tests.apps.service.conftest import AUTH
from tests.fakes.servers import uvicorn_server
from tradeops.service.backtester import create_app
from tradeops.settings import load_settings

# schemathesis loads its OpenAPI support on first use, and pytest rewrites those modules (it is a pytest
# plugin) as they are imported; that rewrite failed once here with "SystemError: AST constructor recursion
# depth mismatch", a CPython 3.11 bug seen in threaded programs (python/cpython#106905). Imported above, at
# collection, nothing is parsed while the test's server threads run.
ROOT = Path(__file__).resolve().parents[3]
EXAMPLES_PER_OPERATION = 25


@pytest.mark.req("BT-1", "SM-3")
def test_bt_1_sm_3_fuzzing_every_operation_finds_no_server_error(tmp_path):
    document = json.loads((ROOT / "docs/api/openapi.json").read_text())
    app = create_app(
        load_settings(
            data_dir=tmp_path / "data",
            api_token=AUTH["Authorization"][7:],
            queue_limit=4,
            workers=1,
            job_timeout_seconds=5,
        )
    )
    failures: list[str] = []
    calls = 0
    with uvicorn_server(app) as base_url:
        schema = schemathesis.openapi.from_dict(document)
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def fuzz(case: schemathesis.Case) -> None:
                nonlocal calls
                for headers in (AUTH, {}):
                    response = case.call(base_url=base_url, headers=headers, timeout=30)
                    calls += 1
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                        )

            fuzz()
    print(f"fuzz: {calls} requests, {len(failures)} server errors")
    assert calls > 100
    assert not failures, "\n".join(failures[:10])
