"""Bounded load test of the backtester on loopback: many status/list reads while backtests queue up.

    python -m pipelines.bench.api_load [--concurrent 200] [--rounds 5] [--queued 50]

Starts `tradeops serve backtester` in a child process on a free loopback port, queues backtests,
then sends `--concurrent` GET /status and GET /v1/backtests at once, `--rounds` times. Prints
latency percentiles, errors and the server's peak memory; exits 1 on any error. Nothing else is
contacted and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TOKEN = "load-test-token-0123456789"  # noqa: S105 - a throwaway token for a loopback test server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _burst(client: httpx.AsyncClient, concurrent: int) -> tuple[list[float], list[str]]:
    async def one(i: int) -> tuple[float, str | None]:
        path = "/status" if i % 2 else "/v1/backtests?limit=20"
        started = time.perf_counter()
        try:
            response = await client.get(path)
            error = None if response.status_code == 200 else f"{path}: HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            error = f"{path}: {type(failure).__name__}"
        return time.perf_counter() - started, error

    results = await asyncio.gather(*(one(i) for i in range(concurrent)))
    return [r[0] for r in results], [r[1] for r in results if r[1]]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(concurrent: int, rounds: int, queued: int) -> dict[str, Any]:
    """Run the load test; return its measurements."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {
            "TRADEOPS_DATA_DIR": data,
            "TRADEOPS_API_TOKEN": TOKEN,
            "TRADEOPS_QUEUE_LIMIT": str(queued + 10),
        }
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tradeops.cli", "serve", "backtester", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            return asyncio.run(_drive(port, server.pid, concurrent, rounds, queued))
        finally:
            server.terminate()
            server.wait(30)


async def _drive(port: int, pid: int, concurrent: int, rounds: int, queued: int) -> dict[str, Any]:
    # No keep-alive: a fresh connection per request, so a server closing an idle one is never counted as an error.
    limits = httpx.Limits(max_connections=concurrent, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready within 60 s")
            await asyncio.sleep(0.2)
        memory_before = _peak_rss_mb(pid)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        for i in range(queued):
            body = {"strategy": "sma_cross", "params": {"fast": 5 + i % 20, "slow": 40 + i}, "data": "sample:GOOG"}
            (await client.post("/v1/backtests", json=body, headers=headers)).raise_for_status()
        latencies: list[float] = []
        errors: list[str] = []
        queue_depths = []
        for _ in range(rounds):
            queue_depths.append((await client.get("/status")).json()["queue"])
            times, failed = await _burst(client, concurrent)
            latencies += times
            errors += failed
        return {
            "requests": len(latencies),
            "concurrent": concurrent,
            "queued_backtests": queued,
            "queue_during_load": queue_depths,
            "errors": errors,
            "latency_ms": {
                name: round(_percentile(latencies, q) * 1000, 2)
                for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            },
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
            "server_peak_rss_mb": {"before": round(memory_before, 1), "after": round(_peak_rss_mb(pid), 1)},
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queued", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("reports/api_load.json"))
    args = parser.parse_args(argv)
    result = run(args.concurrent, args.rounds, args.queued)
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
