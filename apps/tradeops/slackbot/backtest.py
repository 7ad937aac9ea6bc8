"""`/trading backtest`: a run on the backtester API (`POST /v1/backtests`, then poll `GET /v1/backtests/{id}`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tradeops.errors import ConfigError, TradeopsError
from tradeops.slackbot.replies import Reply, number

CREATE_ATTEMPTS = 3  # a POST that creates a run is sent at most this often, always with the same key
RETRY_PAUSE_SECONDS = 1.0
SHOWN_METRICS = {  # metric -> decimals shown
    "total_return_pct": 2,
    "sharpe": 2,
    "max_drawdown_pct": 2,
    "profit_factor": 2,
    "win_rate_pct": 1,
    "trades": 0,
}


class BacktesterClient:
    """Submit a backtest and wait for it; every failure is a TradeopsError with the API's reason."""

    def __init__(self, url: str, token: str | None, *, timeout_seconds: float, poll_seconds: float = 0.25) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=10.0)
        self.timeout_seconds, self.poll_seconds = timeout_seconds, poll_seconds

    def run(self, strategy: str, params: dict[str, Any], data: str) -> dict[str, Any]:
        """Return the finished run (the API's RunView)."""
        accepted = self._create("/v1/backtests", {"strategy": strategy, "params": params, "data": data})
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            run = self._call("GET", accepted["url"])
            if run["status"] in ("done", "failed", "cancelled"):
                return run
            if time.monotonic() > deadline:
                raise TradeopsError(f"backtest {accepted['id']} still {run['status']} after {self.timeout_seconds:g} s")
            time.sleep(self.poll_seconds)

    def _create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with one Idempotency-Key, sent again (same key) after a lost connection or a 503: one run."""
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                response = self._http.post(path, json=body, headers=headers)
            except httpx.HTTPError as error:
                if attempt == CREATE_ATTEMPTS:
                    raise TradeopsError(f"backtester unreachable: {type(error).__name__}") from None
            else:
                if response.status_code != 503 or attempt == CREATE_ATTEMPTS:
                    return answer(response)
            time.sleep(RETRY_PAUSE_SECONDS * attempt)
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise TradeopsError(f"backtester unreachable: {type(error).__name__}") from None
        return answer(response)

    def close(self) -> None:
        self._http.close()


def answer(response: httpx.Response) -> dict[str, Any]:
    """The API's JSON body; a ConfigError with the API's validation messages for a 422, a TradeopsError else."""
    if response.status_code == 422:
        raise ConfigError("; ".join(_messages(response.json().get("detail"))))
    if response.status_code >= 300:
        raise TradeopsError(f"backtester answered {response.status_code}: {response.text[:200]}")
    body: dict[str, Any] = response.json()
    return body


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, list):
        return [str(d.get("msg", d)).removeprefix("Value error, ") if isinstance(d, dict) else str(d) for d in detail]
    return [str(detail)]


def backtest_reply(run: dict[str, Any], public_url: str) -> Reply:
    """The metrics of a finished run and the link to its report, for the channel."""
    params = " ".join(f"{k}={v}" for k, v in run["params"].items()) or "defaults"
    title = f"backtest `{run['strategy']}` {params} on {run['data']}"
    if run["status"] != "done":
        return Reply(f":x: {title}: {run['status']}: {run.get('error') or 'no reason given'}", visibility="in_channel")
    metrics = run.get("metrics") or {}
    lines = [f":bar_chart: {title} (run `{run['id']}`)"]
    lines += [f"• {name}: {number(metrics.get(name), digits)}" for name, digits in SHOWN_METRICS.items()]
    if run.get("report_url"):
        lines.append(f"<{public_url.rstrip('/')}{run['report_url']}|HTML report>")
    return Reply("\n".join(lines), visibility="in_channel")
