"""Dump and restore one database: PostgreSQL through pg_dump/pg_restore, SQLite through its backup API."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tradeops.errors import TradeopsError
from tradeops.scratch import owner, reclaim_beside, reclaim_temporary, scratch_folder, scratch_root

if TYPE_CHECKING:
    from sqlalchemy import TextClause
    from sqlalchemy.engine import URL, Connection, Engine

CHUNK = 1024 * 1024


def make_url(url: str) -> URL:
    """Parse a SQLAlchemy URL (SQLAlchemy is imported only by commands that touch a database)."""
    from sqlalchemy import make_url as parse

    return parse(url)


def text(sql: str) -> TextClause:
    from sqlalchemy import text as clause

    return clause(sql)


class BackupError(TradeopsError):
    """A backup, verification or restore that could not be done; nothing was changed."""


class NothingToBackUp(BackupError):
    """The database does not exist yet (a fresh checkout, a stack's first deploy): there is nothing to back up."""


class Database(Protocol):
    """One kind of database, as backups see it: `dump` yields and `restore` takes the raw, uncompressed dump
    (the repository compresses it, `tradeops.backup.codec`)."""

    kind: str
    url: str

    def dump(self) -> tuple[dict[str, int], Iterator[bytes]]: ...
    def restore(self, chunks: Iterable[bytes], target_url: str) -> None: ...
    def table_counts(self, url: str | None = None) -> dict[str, int]: ...
    def table_checksums(self, url: str | None = None) -> dict[str, str]: ...
    def scratch(self) -> contextlib.AbstractContextManager[str]: ...


def open_database(url: str) -> Database:
    """Pick the implementation for a SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresDatabase(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return SqliteDatabase(url)
    raise BackupError(f"cannot back up {parsed.render_as_string(hide_password=True)}: use PostgreSQL or a SQLite file")


class PostgresDatabase:
    """pg_dump's custom format, uncompressed (the repository compresses it), taken in the same snapshot the row
    counts come from; pg_restore reads it and the older backups pg_dump compressed itself alike."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.parsed = make_url(url).set(drivername="postgresql+psycopg")

    # -- connections -------------------------------------------------------------------------

    def _engine(self, url: URL | None = None, **options: Any) -> Engine:
        from sqlalchemy import create_engine

        return create_engine(url or self.parsed, **options)

    def _libpq(self, url: URL) -> tuple[str, dict[str, str]]:
        """A connection URI without the password, and the environment that carries it."""
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        safe = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        return safe, env

    def server_major(self) -> int:
        with self._engine().connect() as connection:
            return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000

    def tool(self, name: str) -> str:
        """Find a PostgreSQL client on PATH whose major version can talk to the server."""
        path = shutil.which(name)
        if path is None:
            raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools (same major as the server)")
        output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
        match = re.search(r"(\d+)(?:\.\d+)?", output)
        major, server = int(match.group(1)) if match else 0, self.server_major()
        if major < server:
            raise BackupError(
                f"{path} is version {major} but the server is PostgreSQL {server}: "
                f"put a {name} of major version {server} or newer first on PATH"
            )
        return path

    # -- dump and restore --------------------------------------------------------------------

    def dump(self) -> tuple[dict[str, int], Iterator[bytes]]:
        pg_dump = self.tool("pg_dump")
        engine = self._engine(isolation_level="REPEATABLE READ")
        connection = engine.connect()
        transaction = connection.begin()
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _pg_counts(connection)
        uri, env = self._libpq(self.parsed)

        def stream() -> Iterator[bytes]:
            try:
                yield from _run_streaming(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        "--compress=0",
                        f"--snapshot={snapshot}",
                        f"--dbname={uri}",
                    ],
                    env,
                    "pg_dump",
                )
            finally:
                transaction.rollback()
                connection.close()
                engine.dispose()

        return counts, stream()

    def restore(self, chunks: Iterable[bytes], target_url: str) -> None:
        pg_restore = self.tool("pg_restore")
        uri, env = self._libpq(make_url(target_url).set(drivername="postgresql+psycopg"))
        command = [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={uri}",
        ]
        _run_feeding(command, env, chunks, "pg_restore")

    def table_counts(self, url: str | None = None) -> dict[str, int]:
        engine = self._engine(make_url(url).set(drivername="postgresql+psycopg") if url else None)
        with engine.connect() as connection:
            counts = _pg_counts(connection)
        engine.dispose()
        return counts

    def table_checksums(self, url: str | None = None) -> dict[str, str]:
        engine = self._engine(make_url(url).set(drivername="postgresql+psycopg") if url else None)
        with engine.connect() as connection:
            sums = {
                table: str(
                    connection.execute(
                        text(
                            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608
                        )
                    ).scalar_one()
                )
                for table in _pg_tables(connection)
            }
        engine.dispose()
        return sums

    @contextlib.contextmanager
    def scratch(self) -> Iterator[str]:
        """An empty database on the same server, dropped afterwards."""
        name = f"tradeops_scratch_{uuid.uuid4().hex[:12]}"
        admin = self._engine(self.parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield self.parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _pg_tables(connection: Connection) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    )
    return [str(r[0]) for r in rows]


def _pg_counts(connection: Connection) -> dict[str, int]:
    return {
        t: int(connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())  # noqa: S608
        for t in _pg_tables(connection)
    }


def _run_streaming(command: list[str], env: dict[str, str], name: str) -> Iterator[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # noqa: S603
    assert process.stdout is not None and process.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    finished = False
    try:
        yield from iter(lambda: process.stdout.read(CHUNK), b"")  # type: ignore[union-attr]
        finished = True
    finally:
        if not finished:  # the consumer stopped early (e.g. the upload failed): stop the dump too
            process.kill()
        code = process.wait()
        reader.join()
    if code != 0:
        raise BackupError(f"{name} failed (exit {code}): {b''.join(errors).decode(errors='replace').strip()}")


def _run_feeding(command: list[str], env: dict[str, str], chunks: Iterable[bytes], name: str) -> None:
    process = subprocess.Popen(  # noqa: S603 - fixed argv: a PostgreSQL tool found on PATH
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        for chunk in chunks:
            process.stdin.write(chunk)
    except BrokenPipeError:
        pass
    except BaseException:
        process.kill()  # before stdin closes: the tool must never see a complete-looking input
        raise
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        code = process.wait()
        reader.join()
    if code != 0:
        raise BackupError(f"{name} failed (exit {code}): {b''.join(errors).decode(errors='replace').strip()}")


class SqliteDatabase:
    """SQLite's backup API into a scratch file, streamed as it is; restores replace the file atomically."""

    kind = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(str(make_url(url).database))

    def dump(self) -> tuple[dict[str, int], Iterator[bytes]]:
        """Copy through the backup API into a scratch file (pages, not the whole image, in memory), then stream it."""
        if not self.path.exists():
            raise NothingToBackUp(f"{self.path}: no such database file")
        reclaim_temporary()  # what killed backups left: the copy is as big as the database
        scratch_root().mkdir(parents=True, exist_ok=True)
        # named after this process (see tradeops.scratch); removed when done, or when collected
        folder = tempfile.TemporaryDirectory(prefix=f"dump-{owner()}-", dir=scratch_root())
        copy_path = Path(folder.name) / "copy.db"
        try:
            with (
                contextlib.closing(sqlite3.connect(self.path)) as source,
                contextlib.closing(sqlite3.connect(copy_path)) as copy,
            ):
                # The copy is scratch, read once and deleted: no rollback journal and no fsync of its pages (the
                # copy of a 331 MB database took 0.62 s instead of 0.85 s here, issue 29). One step
                # (pages=-1) reads the source in one read transaction: a writer's commit in between cannot restart it.
                copy.execute("PRAGMA journal_mode=OFF")
                copy.execute("PRAGMA synchronous=OFF")
                with source:
                    source.backup(copy, pages=-1)
                copy.execute("PRAGMA journal_mode=DELETE")  # a restored file never looks for a -wal of its own
                counts = _sqlite_counts(copy)
        except sqlite3.Error as error:
            folder.cleanup()
            raise BackupError(
                f"copying {self.path} into the scratch copy {copy_path} failed: {error} "
                "(the scratch copy is as big as the database: free space there, or set TMPDIR to a roomier folder)"
            ) from None

        def stream() -> Iterator[bytes]:
            try:
                with copy_path.open("rb") as image:
                    yield from iter(lambda: image.read(CHUNK), b"")
            finally:
                folder.cleanup()

        return counts, stream()

    def restore(self, chunks: Iterable[bytes], target_url: str) -> None:
        """Write into a hidden file beside the target, check it, then rename it over the target."""
        target = Path(str(make_url(target_url).database))
        target.parent.mkdir(parents=True, exist_ok=True)
        reclaim_beside(target, ".restore-")  # what killed restores left beside it
        handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".restore-{owner()}-")
        try:
            with os.fdopen(handle, "wb") as image:
                try:
                    for chunk in chunks:
                        image.write(chunk)
                    image.flush()
                    os.fsync(image.fileno())
                except OSError as error:
                    why = error.strerror or error
                    raise BackupError(f"writing the restored image {partial} failed: {why}") from None
            with contextlib.closing(sqlite3.connect(partial)) as restored:
                check = str(restored.execute("PRAGMA quick_check").fetchone()[0])
            if check != "ok":
                raise BackupError(f"the SQLite backup is not a consistent database: {check}")
            os.replace(partial, target)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"the SQLite backup is not a valid database: {error}") from None
        finally:
            Path(partial).unlink(missing_ok=True)

    def _connect(self, url: str | None) -> sqlite3.Connection:
        return sqlite3.connect(Path(str(make_url(url).database)) if url else self.path)

    def table_counts(self, url: str | None = None) -> dict[str, int]:
        with contextlib.closing(self._connect(url)) as connection:
            return _sqlite_counts(connection)

    def table_checksums(self, url: str | None = None) -> dict[str, str]:
        import hashlib

        with contextlib.closing(self._connect(url)) as connection:
            sums = {}
            for table in _sqlite_tables(connection):
                rows = sorted(repr(r) for r in connection.execute(f'SELECT * FROM "{table}"'))  # noqa: S608
                sums[table] = hashlib.md5("|".join(rows).encode(), usedforsecurity=False).hexdigest()
            return sums

    @contextlib.contextmanager
    def scratch(self) -> Iterator[str]:
        reclaim_temporary()
        with scratch_folder("verify") as folder:
            yield f"sqlite:///{folder / 'scratch.db'}"


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [str(r[0]) for r in rows]


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    return {
        t: int(connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # noqa: S608
        for t in _sqlite_tables(connection)
    }
