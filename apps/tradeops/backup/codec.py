"""How a dump is compressed in the store: zstd since issue 29; older backups stay restorable.

| codec | written by | what the dump object is |
|---|---|---|
| `zstd` | every backup now | the database's raw dump (SQLite file image, `pg_dump -Fc -Z0`), zstd level 3 |
| `gzip` | SQLite backups before issue 29 | the SQLite file image, gzip level 6 |
| `none` | PostgreSQL backups before issue 29 | `pg_dump -Fc` as pg_dump wrote it (compressed inside by pg_dump) |

Both directions stream in bounded memory: compression holds a few 1 MiB jobs and zstd's window,
decompression yields at most CHUNK bytes at a time whatever the ratio (a zip bomb stays small).
Integrity is the repository's SHA-256 over the stored bytes (checked before the last MiB is released);
zstd's frame checksum also catches a wrong byte inside the frame.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Literal

from tradeops.backup.databases import CHUNK, BackupError
from tradeops.store.objects import _ChunkReader as ChunkReader

Codec = Literal["zstd", "gzip", "none"]
CODEC: Codec = "zstd"  # what new backups are written with
ZSTD_LEVEL = 3  # gzip-6's ratio on our dumps at about a quarter of its CPU time (issue 29)
MAX_WINDOW = 1 << 23  # level 3 writes a 2 MiB window; a frame asking for more than 8 MiB is refused


def compress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Compress a dump as one zstd frame with a content checksum, chunk by chunk."""
    import zstandard

    # One zstd worker thread compresses while this thread reads, hashes and uploads, in 1 MiB jobs (the default
    # job of 8 MiB held 70-95 MiB more while create ran; 1 MiB jobs hold 10-25 MiB: test_memory's bound is 40).
    parameters = zstandard.ZstdCompressionParameters.from_level(
        ZSTD_LEVEL, threads=1, job_size=CHUNK, write_checksum=True
    )
    compressor = zstandard.ZstdCompressor(compression_params=parameters).compressobj()
    for chunk in chunks:
        block = compressor.compress(chunk)
        if block:
            yield block
    yield compressor.flush()


def decompress(chunks: Iterable[bytes], codec: Codec) -> Iterator[bytes]:
    """The raw dump from the stored bytes of a backup written with `codec`."""
    if codec == "zstd":
        return _unzstd(chunks)
    if codec == "gzip":
        return _gunzip(chunks)
    return iter(chunks)


def _unzstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    import zstandard

    decompressor = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
    try:
        reader = ChunkReader(chunks)  # zstandard calls only its read(size)
        yield from decompressor.read_to_iter(reader, read_size=CHUNK, write_size=CHUNK)  # type: ignore[arg-type]
    except zstandard.ZstdError as error:
        raise BackupError(f"the backup cannot be decompressed (zstd): {error}") from None


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Inflate gzip chunks, at most CHUNK bytes of output at a time."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for chunk in chunks:
            data = chunk
            while data and not inflater.eof:
                yield inflater.decompress(data, CHUNK)
                data = inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error as error:
        raise BackupError(f"the backup cannot be decompressed (gzip): {error}") from None
    if not inflater.eof:
        raise BackupError("the backup cannot be decompressed (gzip): the stream ends early")
