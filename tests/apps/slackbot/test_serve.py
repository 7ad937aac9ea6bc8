"""`tradeops serve slackbot` binds where asked, serves the health standard, and needs its signing secret."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.apps.slackbot.conftest import SECRET
from tests.fakes.servers import tradeops_service


@pytest.mark.req("OE-3", "OE-5")
def test_oe_3_oe_5_serve_slackbot_runs_the_app_and_refuses_to_run_unverified(tmp_path):
    command = [sys.executable, "-m", "tradeops.cli", "serve", "slackbot"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEOPS_")} | {
        "TRADEOPS_DATA_DIR": str(tmp_path / "data")
    }
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "needs TRADEOPS_SLACK_SIGNING_SECRET" in refused.stderr

    with tradeops_service(["serve", "slackbot"], env | {"TRADEOPS_SLACK_SIGNING_SECRET": SECRET}) as served:
        assert httpx.get(f"{served.base}/readyz").json() == {"status": "ready"}
        assert httpx.get(f"{served.base}/status").json()["service"] == "slackbot"
        assert httpx.post(f"{served.base}/slack/commands", content=b"text=status").status_code == 401
    assert "Application shutdown complete" in served.output
