"""`tradeops serve` fails to start like every other command: one line on stderr, exit 2 (docs/README.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fakes.servers import free_port

pytestmark = pytest.mark.req("DC-48")


def serve(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-c",
        "from tradeops.cli import main; main()",
        "serve",
        service,
        "--port",
        str(free_port()),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **env})


@pytest.mark.parametrize("service", ["backtester", "trader", "slackbot", "mcp"])
def test_dc_48_serve_with_an_unreachable_database_exits_2_with_one_line(service, tmp_path):
    closed = free_port()  # nothing listens there: the connection is refused at once
    env = {
        "TRADEOPS_DATA_DIR": str(tmp_path),
        "TRADEOPS_DATABASE_URL": f"postgresql://tradeops:secret@127.0.0.1:{closed}/tradeops",
        "TRADEOPS_DATABASE_CONNECT_TIMEOUT_SECONDS": "1",
        "TRADEOPS_TRADER_CANDIDATE": str(tmp_path / "candidate.yaml"),
        "TRADEOPS_SLACK_SIGNING_SECRET": "slack-signing-secret-0123456789",
    }
    (tmp_path / "candidate.yaml").write_text("strategy: sma_cross\nparams: {fast: 5, slow: 20}\ndata: sample:GOOG\n")
    done = serve(service, env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "database" in lines[0] and str(closed) in lines[0] and "TRADEOPS_DATABASE_URL" in lines[0], lines[0]
