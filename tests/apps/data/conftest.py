"""Fixtures of the dataset tests."""

from __future__ import annotations

import pytest

from tradeops.store.objects import FolderObjectStore, S3ObjectStore


@pytest.fixture(params=["folder", "s3"])
def objects(request, tmp_path):
    """The object store datasets live in: a local folder, then a real S3 server (moto)."""
    if request.param == "folder":
        return FolderObjectStore(tmp_path / "objects")
    return S3ObjectStore(request.getfixturevalue("s3_bucket"), "desk", request.getfixturevalue("s3_server"))
