"""The same service on PostgreSQL and S3 (the cluster's stores), end to end."""

from __future__ import annotations

import pytest

from tests.apps.service.conftest import AUTH, wait_for


@pytest.mark.req("BT-3")
def test_bt_3_backtests_store_results_in_postgres_and_reports_in_s3(make_api, postgres_url, s3_server, s3_bucket):
    with make_api(
        database_url=postgres_url, object_store=f"s3://{s3_bucket}/tradeops", s3_endpoint_url=s3_server
    ) as api:
        assert api.get("/readyz").json() == {"status": "ready"}
        run = wait_for(api, api.post("/v1/backtests", json={"strategy": "sma_cross"}, headers=AUTH).json()["url"])
        assert run["status"] == "done"
        assert api.get(run["report_url"]).text.startswith("<!doctype html>")
        import boto3

        keys = [
            o["Key"] for o in boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket=s3_bucket)["Contents"]
        ]
        from tradeops.reports.embed import plotly_asset

        # the report, and the one plotly bundle every stored report shares (DC-49)
        assert sorted(keys) == [f"tradeops/assets/{plotly_asset()[0]}", f"tradeops/runs/{run['id']}/report.html"]
    with make_api(
        database_url=postgres_url, object_store=f"s3://{s3_bucket}/tradeops", s3_endpoint_url=s3_server
    ) as api:
        assert api.get(f"/v1/backtests/{run['id']}").json()["result"] == run["result"]
