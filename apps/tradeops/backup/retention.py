"""Which backups to keep: the last N, one a day, one a week, recent restore points, the newest verified."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field


class RetentionPolicy(BaseModel):
    """How long backups live; every rule keeps, none deletes on its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_last: int = Field(7, ge=1, description="the newest N backups of any kind")
    daily_days: int = Field(14, ge=0, description="the newest backup of each of the last D days")
    weekly_weeks: int = Field(8, ge=0, description="the newest backup of each of the last W ISO weeks")
    restore_point_days: int = Field(30, ge=0, description="every restore point younger than K days")


@dataclass(frozen=True)
class BackupInfo:
    """What retention needs to know about one backup."""

    id: str
    created_at: datetime
    kind: str  # scheduled | restore-point
    verified: bool


def plan_prune(
    backups: Sequence[BackupInfo], now: datetime, policy: RetentionPolicy
) -> tuple[dict[str, str], list[str]]:
    """Return (kept id -> why, ids to delete). The newest verified backup is always kept."""
    newest_first = sorted(backups, key=lambda b: (b.created_at, b.id), reverse=True)
    keep: dict[str, str] = {}

    def mark(backup: BackupInfo, reason: str) -> None:
        keep.setdefault(backup.id, reason)

    for backup in newest_first[: policy.keep_last]:
        mark(backup, f"one of the newest {policy.keep_last}")
    verified = [b for b in newest_first if b.verified]
    if verified:
        mark(verified[0], "the newest verified backup")
    seen_days: set[object] = set()
    seen_weeks: set[object] = set()
    for backup in newest_first:
        age = now - backup.created_at
        day, week = backup.created_at.date(), backup.created_at.isocalendar()[:2]
        if age <= timedelta(days=policy.daily_days) and day not in seen_days:
            seen_days.add(day)
            mark(backup, f"newest of {day}")
        if age <= timedelta(weeks=policy.weekly_weeks) and week not in seen_weeks:
            seen_weeks.add(week)
            mark(backup, f"newest of week {week[0]}-W{week[1]:02d}")
        if backup.kind == "restore-point" and age <= timedelta(days=policy.restore_point_days):
            mark(backup, f"restore point younger than {policy.restore_point_days} days")
    delete = [b.id for b in newest_first if b.id not in keep]
    return keep, delete
