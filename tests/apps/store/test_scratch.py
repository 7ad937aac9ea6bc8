"""Scratch names carry their owner (DC-45): a dead owner's files go at once, a live owner's stay, an unowned
or foreign name waits for the grace period; S3 uploads never completed are aborted after it."""

from __future__ import annotations

import os
import subprocess
import time

import boto3
import pytest

from tradeops.scratch import GRACE, owner, reclaim, scratch_name, stale_because
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("DC-45")


def dead_owner() -> str:
    """The owner string of a process that ran and ended here (its pid is free, or reused by another start)."""
    process = subprocess.Popen(["sleep", "0"])
    process.wait()
    host, _pid, start = owner().split("-")
    return f"{host}-{process.pid}-{start}"


def test_dc_45_a_dead_owners_scratch_goes_a_live_owners_and_young_unowned_ones_stay(tmp_path):
    mine = tmp_path / scratch_name("dump-")
    theirs = tmp_path / f"dump-{dead_owner()}-abcd1234"
    legacy = tmp_path / "tradeops-dump-k2j3h4"
    foreign = tmp_path / f".partial-00000000-{os.getpid()}-1-xyz"
    for path in (mine, theirs, legacy, foreign):
        path.write_bytes(b"x" * 100)
    gone = reclaim([mine, theirs, legacy, foreign])
    assert [(g.path, g.bytes) for g in gone] == [(str(theirs), 100)]
    assert "is gone" in gone[0].why
    old = time.time() - GRACE.total_seconds() - 60
    assert stale_because(legacy.name, old) and stale_because(foreign.name, old)
    assert stale_because(mine.name, old) is None  # its owner runs: however old, it stays


def test_dc_45_s3_uploads_never_completed_are_aborted_after_the_grace_period(s3_bucket, s3_server):
    client = boto3.client("s3", endpoint_url=s3_server)
    upload = client.create_multipart_upload(Bucket=s3_bucket, Key="p/backups/x/dump")
    client.upload_part(Bucket=s3_bucket, Key="p/backups/x/dump", UploadId=upload["UploadId"], PartNumber=1,
                       Body=b"y" * 1000)  # fmt: skip
    objects = open_object_store(f"s3://{s3_bucket}/p", s3_server)
    assert objects.reclaim("elsewhere/") == []  # only under the prefix asked
    # moto reports every upload as begun in 2010, so the young side of GRACE is not seen here
    gone = objects.reclaim("backups/", dry_run=True)
    assert len(client.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]) == 1  # a dry run aborts nothing
    assert objects.reclaim("backups/") == gone
    assert [(g.path, g.bytes) for g in gone] == [(f"s3://{s3_bucket}/p/backups/x/dump", 1000)]
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
