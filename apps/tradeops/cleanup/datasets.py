"""Dataset retention: old versions go, unless one of the newest, or referenced by a deployed candidate or a verdict."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradeops.data.datasets import ROOT, DatasetStore
from tradeops.scratch import stale_because

if TYPE_CHECKING:
    from tradeops.cleanup.plan import CleanupPolicy, CleanupReport
    from tradeops.store import ObjectStore


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
    """Remove dataset versions past retention and parts no version uses; say why each one stays.

    Every dataset with anything stored is visited, one whose first write never completed included.
    """
    store = DatasetStore(objects)
    referenced = referenced_versions(objects)
    complete = set(store.names())
    for name in sorted({key.split("/")[1] for key in objects.keys(f"{ROOT}/") if key.count("/") >= 2}):
        if name in complete:
            _versions(store, name, referenced, policy, now, dry_run, report)
        _orphans(store, name, policy, now, dry_run, report)


def _versions(
    store: DatasetStore,
    name: str,
    referenced: dict[tuple[str, str], str],
    policy: CleanupPolicy,
    now: datetime,
    dry_run: bool,
    report: CleanupReport,
) -> None:
    for rank, manifest in enumerate(reversed(store.versions(name))):
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


def _write_died(marker: dict[str, Any], policy: CleanupPolicy, now: datetime) -> str | None:
    """Why an unfinished write is over (its owner is gone, or it began past the grace period); None if it may run."""
    started = datetime.fromisoformat(marker["started_at"])
    age = now - started
    if age > timedelta(hours=policy.write_grace_hours):
        return f"began {age.total_seconds() / 3600:.1f} h ago and never completed"
    owner = marker.get("owner")
    if owner and (why := stale_because(f"{owner}-", started.timestamp(), now.timestamp())):
        return f"never completed: {why}"
    return None


def _orphans(
    store: DatasetStore, name: str, policy: CleanupPolicy, now: datetime, dry_run: bool, report: CleanupReport
) -> None:
    markers = store.writes_in_flight(name)
    died = {key: why for key, marker in markers.items() if (why := _write_died(marker, policy, now))}
    if len(died) < len(markers):  # a live write's new parts are listed by no manifest yet
        report.kept.append({"what": f"dataset {name} parts", "why": "a write is in progress"})
        return
    for key in store.orphan_parts(name):
        size = store.objects.size(key)
        report.removed.append({"what": f"object {key}", "why": "no version of the dataset uses it"})
        report.bytes_freed += size
        if not dry_run:
            store.objects.delete(key)
    for key, why in died.items():  # the marker last: a cleanup killed half way finds the write again
        report.removed.append({"what": f"unfinished write {key}", "why": why})
        report.bytes_freed += store.objects.size(key)
        if not dry_run:
            store.objects.delete(key)
