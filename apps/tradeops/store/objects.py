"""Object store for reports and artifacts: a local folder (default) or S3 (any S3-compatible endpoint)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from tradeops.errors import ConfigError, TradeopsError
from tradeops.scratch import owner

if TYPE_CHECKING:
    from tradeops.scratch import Leftover


class ObjectStoreError(TradeopsError):
    """The object store cannot be reached or refused an operation (not a missing key: that is KeyError)."""


class ObjectStore(Protocol):
    """Keys are `/`-separated names; values are bytes."""

    url: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...
    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int: ...
    def get(self, key: str) -> bytes: ...
    def get_stream(self, key: str) -> Iterator[bytes]: ...
    def size(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> list[str]: ...
    def ping(self) -> None: ...
    def reclaim(self, prefix: str = "", *, dry_run: bool = False) -> list[Leftover]: ...


CHUNK = 1024 * 1024
UPLOAD_PART = 8 * 1024 * 1024  # S3 multipart part size: up to 80 GB in 10,000 parts


class _ChunkReader:
    """A read-only file object over an iterator of byte chunks (what boto3's uploader reads from).

    It keeps nothing between reads but the unread tail of the last chunk, so a read of one part
    holds that part twice at most, and only while it is joined.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._rest], len(self._rest)
        while size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
            self.size += len(chunk)
        self._rest = b""
        if 0 <= size < have:
            last, keep = parts[-1], len(parts[-1]) - (have - size)
            parts[-1], self._rest = last[:keep], last[keep:]
        return b"".join(parts)


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


class FolderObjectStore:
    """Objects as files under one folder; writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()
        root.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.put_stream(key, [data])

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Write chunks to a hidden partial file, then rename: an interrupted write leaves no object.

        A failing disk (full, read-only) is an ObjectStoreError; a failing source raises its own error.
        """
        path = self.root / _check_key(key)
        with self._writing(key):
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".partial-{owner()}-")
        size = 0
        try:
            with os.fdopen(handle, "wb") as stream:
                for chunk in chunks:
                    with self._writing(key):
                        stream.write(chunk)
                    size += len(chunk)
                with self._writing(key):
                    stream.flush()
            with self._writing(key):
                os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return size

    @contextlib.contextmanager
    def _writing(self, key: str) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            raise ObjectStoreError(
                f"object store {self.url}: writing {key} failed: {error.strerror or error}"
            ) from None

    def get(self, key: str) -> bytes:
        try:
            return (self.root / _check_key(key)).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def get_stream(self, key: str) -> Iterator[bytes]:
        """Open now (a missing key raises KeyError here), then yield chunks."""
        try:
            stream = (self.root / _check_key(key)).open("rb")
        except FileNotFoundError:
            raise KeyError(key) from None

        def chunks() -> Iterator[bytes]:
            with stream:
                yield from iter(lambda: stream.read(CHUNK), b"")

        return chunks()

    def size(self, key: str) -> int:
        try:
            return (self.root / _check_key(key)).stat().st_size
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        (self.root / _check_key(key)).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> list[str]:
        found = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix) and not k.rsplit("/", 1)[-1].startswith(".partial-"))

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")

    def reclaim(self, prefix: str = "", *, dry_run: bool = False) -> list[Leftover]:
        """Remove the `.partial-*` files under `prefix` that a killed writer left (see tradeops.scratch)."""
        from tradeops.scratch import reclaim

        folder = self.root / prefix.rstrip("/") if prefix else self.root
        return reclaim(sorted(folder.rglob(".partial-*")) if folder.is_dir() else [], dry_run=dry_run)


class S3ObjectStore:
    """Objects in an S3 bucket under a prefix, through boto3."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}"
        deadlines = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})
        self.client = boto3.client("s3", endpoint_url=endpoint_url, config=deadlines)
        # Parts go up one after another, in the calling thread: an upload holds one 8 MiB part (twice
        # while the reader joins it), whatever the object's size. Threads would hold a part per thread
        # plus a queue of read-ahead parts, and their malloc arenas keep what they freed.
        self.transfer = TransferConfig(multipart_chunksize=UPLOAD_PART, use_threads=False)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_check_key(key)}" if self.prefix else _check_key(key)

    @contextlib.contextmanager
    def _calling(self, action: str, key: str = "") -> Iterator[None]:
        """A missing key becomes KeyError; any other S3 or network failure an ObjectStoreError naming the store."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            if key and error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise KeyError(key) from None
            raise ObjectStoreError(f"object store {self.url}: {action} {key} failed: {error}") from None
        except BotoCoreError as error:
            raise ObjectStoreError(f"object store {self.url}: {action} {key} failed: {error}") from None

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        with self._calling("put", key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Multipart upload straight from the chunks; an interrupted upload is aborted and leaves no object."""
        reader = _ChunkReader(chunks)
        with self._calling("upload", key):
            self.client.upload_fileobj(reader, self.bucket, self._key(key), Config=self.transfer)
        return reader.size

    def get(self, key: str) -> bytes:
        with self._calling("get", key):
            return bytes(self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read())

    def get_stream(self, key: str) -> Iterator[bytes]:
        """Request now (a missing key raises KeyError here), then yield chunks."""
        with self._calling("get", key):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

        def chunks() -> Iterator[bytes]:
            with self._calling("read", key):
                yield from body.iter_chunks(CHUNK)

        return chunks()

    def size(self, key: str) -> int:
        with self._calling("head", key):
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])

    def delete(self, key: str) -> None:
        with self._calling("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str = "") -> list[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        with self._calling("list", prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start + prefix)
            for page in pages:
                found += [item["Key"][len(start) :] for item in page.get("Contents", [])]
        return sorted(found)

    def ping(self) -> None:
        with self._calling("head bucket"):
            self.client.head_bucket(Bucket=self.bucket)

    def reclaim(self, prefix: str = "", *, dry_run: bool = False) -> list[Leftover]:
        """Abort the multipart uploads under `prefix` begun over GRACE ago (a killed writer's parts, billed)."""
        from datetime import UTC, datetime

        from tradeops.scratch import GRACE, Leftover

        start = f"{self.prefix}/" if self.prefix else ""
        gone = []
        with self._calling("list uploads", prefix):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=start + prefix
            )
            uploads = [upload for page in pages for upload in page.get("Uploads", [])]
        for upload in uploads:
            age = datetime.now(UTC) - upload["Initiated"]
            if age <= GRACE:
                continue  # a writer may still be at it: S3 does not say who began an upload
            with self._calling("list parts", upload["Key"]):
                parts = self.client.list_parts(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            size = sum(int(part["Size"]) for part in parts.get("Parts", []))
            if not dry_run:
                with self._calling("abort upload", upload["Key"]):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
            why = f"an upload begun {age.total_seconds() / 3600:.0f} h ago never completed"
            gone.append(Leftover(f"{self.url}/{upload['Key'][len(start) :]}", size, why))
        return gone


def open_object_store(url: str, endpoint_url: str | None = None) -> ObjectStore:
    """Open `file:///path` or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FolderObjectStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3ObjectStore(parsed.netloc, parsed.path, endpoint_url)
    raise ConfigError(f"object store {url!r}: use file:///path or s3://bucket/prefix")
