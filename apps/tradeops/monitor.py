"""One view of the whole stack's health: every service's /readyz and /status, backups, the last gate verdict.

The modern form of a `monitor_system.sh`: `tradeops monitor --once` exits non-zero when anything is
unhealthy, so a CronJob, a pipeline or a person can act on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from tradeops.backup import BackupRepository
from tradeops.errors import TradeopsError
from tradeops.kube import batch_api
from tradeops.store import RunStore
from tradeops.store.objects import ObjectStore


@dataclass(frozen=True)
class Finding:
    """One thing checked."""

    name: str
    healthy: bool
    detail: str


def check_service(
    name: str, url: str, *, heartbeat_max_age: float, timeout: float = 5.0, release: str | None = None
) -> Finding:
    """Ready, its main loop's heartbeat recent, and (given the stack's running `release`) running that version."""
    import httpx  # only the monitor needs an HTTP client; every other command skips its import

    try:
        ready = httpx.get(f"{url}/readyz", timeout=timeout)
        status = httpx.get(f"{url}/status", timeout=timeout).json()
    except (httpx.HTTPError, ValueError) as error:
        return Finding(name, False, f"unreachable at {url}: {type(error).__name__}")
    if ready.status_code != 200:
        failed = (
            ready.json().get("failed", {})
            if ready.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        return Finding(
            name, False, f"not ready: {', '.join(f'{k}: {v}' for k, v in failed.items()) or ready.status_code}"
        )
    beat = status.get("last_heartbeat")
    if beat is None:
        return Finding(name, False, "no heartbeat from its main loop yet")
    age = (datetime.now(UTC) - datetime.fromisoformat(beat)).total_seconds()
    if age > heartbeat_max_age:
        return Finding(name, False, f"main loop silent for {age:.0f} s")
    running = status.get("git_sha")
    if release is not None and running != release:
        return Finding(name, False, f"runs version {running} but the stack's running release is {release}")
    return Finding(name, True, f"ready, version {status.get('version')}, up {status.get('uptime_seconds', 0):.0f} s")


def running_release(objects: ObjectStore, stack: str) -> str | None:
    """The version of the stack's running release (the newest succeeded one), or None before the first."""
    from tradeops.releases import ReleaseStore

    release = ReleaseStore(objects).current(stack)
    return None if release is None else release.version


def check_backups(database_url: str, objects: ObjectStore, *, max_age_hours: float) -> Finding:
    """A verified backup younger than the limit (the RPO)."""
    try:
        repository = BackupRepository(database_url, objects)
        views, corrupt = repository.inventory()
    except (TradeopsError, OSError) as error:
        return Finding("backups", False, f"cannot be listed: {error}")
    verified = [v for v in views if v.verified]
    newest_good = verified[0].created_at if verified else None
    failed = [v.id for v in views if v.status == "failed" and (newest_good is None or v.created_at > newest_good)]
    problems = [f"corrupt: {', '.join(c.id for c in corrupt)}"] if corrupt else []
    problems += [f"failed verification: {', '.join(failed)}"] if failed else []
    if not verified:
        return Finding("backups", False, "; ".join([f"no verified backup ({len(views)} unverified)", *problems]))
    age = (datetime.now(UTC) - verified[0].created_at).total_seconds() / 3600
    healthy = age <= max_age_hours and not problems
    detail = f"newest verified {verified[0].id}, {age:.1f} h old (limit {max_age_hours:g} h)"
    return Finding("backups", healthy, "; ".join([detail, *problems]))


def check_gate(store: RunStore) -> Finding:
    """The stack candidate's newest verdict (the gate Job's) passed; ad-hoc gate runs are not the stack's."""
    from tradeops.store.stack_verdict import latest_stack_verdict, stack_verdict_passed

    newest = latest_stack_verdict(store)
    if newest is None:
        return Finding("gate", True, "no stack gate verdict yet")
    passed = stack_verdict_passed(newest)
    word = "passed" if passed else f"FAILED ({newest.error or 'thresholds not met'})"
    return Finding(
        "gate", passed, f"stack candidate's verdict {word} for {newest.strategy} at {newest.created_at:%Y-%m-%d %H:%M}"
    )


def check_cronjobs(namespace: str, *, max_age_hours: float, host: str | None = None) -> list[Finding]:
    """Each CronJob of the namespace succeeded within `max_age_hours` (from the Kubernetes API)."""
    try:
        cronjobs = batch_api(host).list_namespaced_cron_job(namespace).items
    except Exception as error:  # noqa: BLE001 - an unreachable API is a finding, not a crash
        return [Finding("cronjobs", False, f"Kubernetes API unreachable: {type(error).__name__}")]
    findings = []
    for cronjob in cronjobs:
        name, success = cronjob.metadata.name, cronjob.status.last_successful_time if cronjob.status else None
        if success is None:
            findings.append(Finding(f"cronjob {name}", False, "has never succeeded"))
            continue
        age = (datetime.now(UTC) - success).total_seconds() / 3600
        findings.append(
            Finding(
                f"cronjob {name}", age <= max_age_hours, f"last success {age:.1f} h ago (limit {max_age_hours:g} h)"
            )
        )
    return findings


def report(findings: list[Finding]) -> dict[str, Any]:
    return {"healthy": all(f.healthy for f in findings), "checks": [asdict(f) for f in findings]}
