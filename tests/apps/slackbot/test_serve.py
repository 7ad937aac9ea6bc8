"""`tradeops serve slackbot` binds where asked, serves the health standard, and needs its signing secret."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.apps.slackbot.conftest import SECRET
from tests.fakes.servers import free_port


@pytest.mark.req("OE-3", "OE-5")
def test_oe_3_oe_5_serve_slackbot_runs_the_app_and_refuses_to_run_unverified(tmp_path):
    command = [sys.executable, "-m", "tradeops.cli", "serve", "slackbot"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEOPS_")} | {
        "TRADEOPS_DATA_DIR": str(tmp_path / "data")
    }
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "needs TRADEOPS_SLACK_SIGNING_SECRET" in refused.stderr

    port = free_port()
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env | {"TRADEOPS_SLACK_SIGNING_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, server.stdout.read()  # type: ignore[union-attr]
                time.sleep(0.2)
        assert ready.json() == {"status": "ready"}
        assert httpx.get(f"http://127.0.0.1:{port}/status").json()["service"] == "slackbot"
        assert httpx.post(f"http://127.0.0.1:{port}/slack/commands", content=b"text=status").status_code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Application shutdown complete" in output
