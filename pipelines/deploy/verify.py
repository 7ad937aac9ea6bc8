"""Post-deploy verification: every service is ready and reports the new version within a time limit."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from tradeops.errors import TradeopsError


class VerificationError(TradeopsError):
    """A service did not become ready on the new version in time; the message says what each one answered."""


def service_state(url: str, timeout: float) -> tuple[bool, str]:
    """(ready on some version, what it answered) for one service's /readyz and /status."""
    try:
        ready = httpx.get(f"{url}/readyz", timeout=timeout)
        status = httpx.get(f"{url}/status", timeout=timeout).json()
    except (httpx.HTTPError, ValueError) as error:
        return False, f"unreachable ({type(error).__name__})"
    version = str(status.get("git_sha", "?"))
    if ready.status_code != 200:
        return False, f"not ready ({ready.status_code}) on version {version}"
    return True, version


def wait_for_version(
    services: Mapping[str, str], version: str, *, timeout: float, interval: float = 2.0
) -> dict[str, str]:
    """Poll until every service is ready on `version`; return what each answered, or raise VerificationError."""
    if not services:
        raise VerificationError("no service to verify: give --target NAME=URL")
    deadline = time.monotonic() + timeout
    while True:
        answers = {name: service_state(url.rstrip("/"), timeout=min(10.0, timeout)) for name, url in services.items()}
        if all(ok and seen == version for ok, seen in answers.values()):
            return {name: seen for name, (_, seen) in answers.items()}
        if time.monotonic() >= deadline:
            late = [
                f"{name}: {seen if not ok else f'ready on version {seen}'}"
                for name, (ok, seen) in answers.items()
                if not (ok and seen == version)
            ]
            raise VerificationError(f"not on version {version} after {timeout:g} s: {'; '.join(late)}")
        time.sleep(interval)
