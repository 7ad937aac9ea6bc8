"""Bounded load test of the backtester on loopback: many status/list reads while backtests queue up, then
backtests per second through the API beside the same backtests in one process.

    python -m pipelines.bench.api_load [--concurrent 200] [--rounds 5] [--queued 50] [--throughput 100]

Starts `tradeops serve backtester` (2 warm workers) in a child process on a free loopback port, queues
backtests, then sends `--concurrent` GET /status and GET /v1/backtests at once, `--rounds` times. Then it
POSTs `--throughput` GOOG backtests and times them until the last is done, and runs as many in this process
(`worker.execute`, warmed up first): the two rates and their ratio are printed side by side. Prints latency
percentiles, errors and the server's peak memory; exits 1 on any error. Nothing else is contacted and every
loop is bounded.
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


WORKERS = 2
GOOG = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 20}, "data": "sample:GOOG"}


def in_process_rate(count: int) -> float:
    """Backtests per second of the worker's own function in this process, after one warm-up run."""
    from tradeops.service.worker import execute

    execute("backtest", GOOG)
    started = time.perf_counter()
    for _ in range(count):
        execute("backtest", GOOG)
    return count / (time.perf_counter() - started)


async def _ended(client: httpx.AsyncClient) -> dict[str, int]:
    """How many backtests are done, and how many ended otherwise (one list call each: polling stays cheap)."""
    counts = {}
    for status in ("done", "failed", "cancelled"):
        counts[status] = (await client.get("/v1/backtests", params={"status": status, "limit": 1})).json()["total"]
    return counts


async def _through_api(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> tuple[float, list[str]]:
    """Backtests per second through POST /v1/backtests, from the first POST to the last run done."""
    before = await _ended(client)
    started = time.perf_counter()
    posts = await asyncio.gather(
        *(
            client.post("/v1/backtests", json=GOOG, headers=headers | {"Idempotency-Key": f"bench-{i}"})
            for i in range(count)
        )
    )
    errors = [f"POST: HTTP {p.status_code}" for p in posts if p.status_code != 202]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        now = await _ended(client)
        ended = {status: now[status] - before[status] for status in now}
        if sum(ended.values()) >= count - len(errors):
            break
        await asyncio.sleep(0.1)
    rate = count / (time.perf_counter() - started)
    errors += [f"{n} backtests {status}" for status, n in ended.items() if status != "done" and n]
    if sum(ended.values()) < count - len(errors):
        errors.append("not all backtests ended within 600 s")
    return rate, errors


async def _drained(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 600
    while (await client.get("/status")).json()["queue"] != {"queued": 0, "running": 0}:
        if time.monotonic() > deadline:
            raise RuntimeError("the queue did not drain within 600 s")
        await asyncio.sleep(0.2)


def run(concurrent: int, rounds: int, queued: int, throughput: int = 0) -> dict[str, Any]:
    """Run the load test; return its measurements."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {
            "TRADEOPS_DATA_DIR": data,
            "TRADEOPS_API_TOKEN": TOKEN,
            "TRADEOPS_QUEUE_LIMIT": str(queued + throughput + 10),
            "TRADEOPS_WORKERS": str(WORKERS),
        }
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tradeops.cli", "serve", "backtester", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            result = asyncio.run(_drive(port, server.pid, concurrent, rounds, queued, throughput))
        finally:
            server.terminate()
            server.wait(30)
    if throughput:
        local = in_process_rate(throughput)
        result["backtests_per_s"] |= {
            "in_process": round(local, 2),
            "api_vs_in_process": round(result["backtests_per_s"]["api"] / local, 2),
        }
    return result


async def _drive(port: int, pid: int, concurrent: int, rounds: int, queued: int, throughput: int) -> dict[str, Any]:
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
        rate = None
        if throughput:
            await _drained(client)
            rate, failed = await _through_api(client, headers, throughput)
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
            "backtests_per_s": {"workers": WORKERS, "count": throughput, "api": round(rate, 2) if rate else None},
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queued", type=int, default=50)
    parser.add_argument("--throughput", type=int, default=100, help="GOOG backtests timed through the API (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("reports/api_load.json"))
    args = parser.parse_args(argv)
    result = run(args.concurrent, args.rounds, args.queued, args.throughput)
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
