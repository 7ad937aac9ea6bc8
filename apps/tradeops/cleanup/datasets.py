"""Dataset retention: old versions go, unless one of the newest, or referenced by a deployed candidate or a verdict."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradeops.data.datasets import DatasetStore

if TYPE_CHECKING:
    from tradeops.cleanup.plan import CleanupPolicy, CleanupReport
    from tradeops.store import ObjectStore

STALE_WRITE = timedelta(hours=6)  # a write that has not finished in this long died; its parts are orphans


def referenced_versions(objects: ObjectStore) -> dict[tuple[str, str], str]:
    """Return (dataset, version) -> why, for every version a stored verdict or a stack's release names."""
    found: dict[tuple[str, str], str] = {}
    for key in objects.keys("verdicts/"):
        record = json.loads(objects.get(key))
        verdict = record.get("verdict") or {}
        for data in (verdict.get("data"), (verdict.get("result") or {}).get("data")):
            _add(found, data, f"verdict {record.get('id', key)} of {record.get('stack', '?')}")
    for key in objects.keys("releases/"):
        release = json.loads(objects.get(key))
        _add(found, release.get("data"), f"release {release.get('id', key)} of {release.get('stack', '?')}")
        reference = ((release.get("config") or {}).get("candidate") or {}).get("data", "")
        name, _, version = str(reference).removeprefix("dataset:").partition("@")
        if str(reference).startswith("dataset:") and version:
            found.setdefault((name, version), f"the candidate of stack {release.get('stack', '?')}")
    return found


def _add(found: dict[tuple[str, str], str], data: Any, why: str) -> None:
    if isinstance(data, dict) and data.get("dataset") and data.get("version"):
        found.setdefault((str(data["dataset"]), str(data["version"])), why)


def clean_datasets(
    objects: ObjectStore, policy: CleanupPolicy, now: datetime, dry_run: bool, report: CleanupReport
) -> None:
    """Remove dataset versions past retention and parts no version uses; say why each one stays."""
    store = DatasetStore(objects)
    referenced = referenced_versions(objects)
    for name in store.names():
        versions = store.versions(name)
        for rank, manifest in enumerate(reversed(versions)):
            what = f"dataset {manifest.ref}"
            age = now - datetime.fromisoformat(manifest.created_at)
            why = referenced.get((name, manifest.version))
            if rank < policy.dataset_keep_versions:
                report.kept.append({"what": what, "why": f"one of the newest {policy.dataset_keep_versions} versions"})
            elif why:
                report.kept.append({"what": what, "why": f"referenced by {why}"})
            elif age <= timedelta(days=policy.dataset_days):
                report.kept.append({"what": what, "why": f"created {age.days} day(s) ago"})
            else:
                report.removed.append({"what": what, "why": f"created {age.days} days ago, referenced by nothing"})
                if not dry_run:
                    store.delete_version(name, manifest.version)
        _orphans(store, name, now, dry_run, report)


def _orphans(store: DatasetStore, name: str, now: datetime, dry_run: bool, report: CleanupReport) -> None:
    in_flight = store.writes_in_flight(name)
    if any(now - datetime.fromisoformat(started) < STALE_WRITE for started in in_flight.values()):
        report.kept.append({"what": f"dataset {name} parts", "why": "a write is in progress"})
        return
    for key in [*store.orphan_parts(name), *in_flight]:
        size = store.objects.size(key)
        report.removed.append({"what": f"object {key}", "why": "no version of the dataset uses it"})
        report.bytes_freed += size
        if not dry_run:
            store.objects.delete(key)
