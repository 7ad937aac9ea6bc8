"""The object store: a local folder and a real S3 endpoint behave the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeops.errors import ConfigError
from tradeops.store import open_object_store

pytestmark = pytest.mark.req("BT-3")


@pytest.fixture(params=["folder", "s3"])
def objects(request, tmp_path):
    if request.param == "folder":
        return open_object_store((tmp_path / "objects").as_uri())
    bucket = request.getfixturevalue("s3_bucket")
    return open_object_store(f"s3://{bucket}/reports", request.getfixturevalue("s3_server"))


def test_bt_3_objects_round_trip_list_and_delete(objects):
    objects.ping()
    objects.put("runs/a/report.html", b"<html>a</html>", "text/html")
    objects.put("runs/b/table.csv", b"x,y\n1,2\n", "text/csv")
    objects.put("other/c", b"c")
    assert objects.get("runs/a/report.html") == b"<html>a</html>"
    assert objects.size("runs/b/table.csv") == 8
    assert objects.keys("runs/") == ["runs/a/report.html", "runs/b/table.csv"]
    objects.put("runs/a/report.html", b"v2")
    assert objects.get("runs/a/report.html") == b"v2"
    objects.delete("runs/a/report.html")
    with pytest.raises(KeyError):
        objects.get("runs/a/report.html")
    with pytest.raises(KeyError):
        objects.size("runs/a/report.html")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_bt_3_keys_that_could_escape_are_refused(objects, key):
    with pytest.raises(ValueError, match="invalid object key"):
        objects.put(key, b"x")


def test_bt_3_unknown_store_urls_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="use file:///path or s3://bucket/prefix"):
        open_object_store("ftp://example/x")


def test_bt_3_folder_writes_leave_no_partial_files(tmp_path):
    store = open_object_store((tmp_path / "o").as_uri())
    store.put("k", b"1" * 100_000)
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["k"]


def test_bt_3_an_unreachable_bucket_fails_ping(s3_server, monkeypatch):
    from tests.conftest import AWS_TEST_ENV

    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Exception, match=r"404|Not Found|NoSuchBucket"):
        open_object_store("s3://no-such-bucket/x", s3_server).ping()


@given(
    chunks=st.lists(st.binary(max_size=50), max_size=20),
    reads=st.lists(st.integers(min_value=0, max_value=70), max_size=30),
)
def test_bt_3_the_upload_reader_returns_the_stream_unchanged_whatever_the_read_sizes(chunks, reads):
    """What boto3's multipart uploader reads part by part is the dump, byte for byte."""
    from tradeops.store.objects import _ChunkReader

    whole = b"".join(chunks)
    reader, at, pieces = _ChunkReader(chunks), 0, []
    for size in reads:
        pieces.append(reader.read(size))
        assert pieces[-1] == whole[at : at + size]  # a full part whenever the stream has one
        at += len(pieces[-1])
    pieces.append(reader.read())
    assert b"".join(pieces) == whole
    assert reader.size == len(whole)
    assert reader.read(10) == b""
