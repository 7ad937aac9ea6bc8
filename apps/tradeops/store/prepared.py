"""Core statements compiled once for a dialect and run on the DBAPI cursor of a SQLAlchemy connection.

For a hot loop (the trader's bar): `Connection.execute` spends more time on its own bookkeeping (the
compiled-cache lookup, building the parameters, the execution context and the result) than the
database spends on a one-row write. A `Prepared` keeps what SQLAlchemy compiled, the SQL in the
dialect's parameter style, the order of its parameters, and the types' bind processors (SQLite's
datetime strings, JSON), so the rows are those `Connection.execute` writes and reads, and per call
only converts the values and calls the driver. It runs on the connection's DBAPI connection, so in
the connection's transaction; a driver error is raised as SQLAlchemy raises it (`exc.OperationalError`
and so on), the statement and the DBAPI error attached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


class Prepared:
    """One statement for one dialect. Every bound value is named by the caller: `bindparam(name)` in the
    statement, or `columns` for the VALUES of an INSERT or the SET of an UPDATE (bound by column name)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, columns: Sequence[str] | None = None) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(columns or ())))
        unnamed = [name for name, bind in compiled.binds.items() if not bind.required]
        if unnamed:
            raise ValueError(f"prepared statements bind every value by name; these carry a value: {unnamed}")
        self.sql = compiled.string
        self.dialect = dialect
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
        self.keys = None if compiled.positional else tuple(compiled.escaped_bind_names.get(n, n) for n in names)
        processors = [compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
        self.binds = tuple(zip(names, processors, strict=True))  # (name, its type's conversion or None)
        self.returns = [column.type for column in getattr(statement, "exported_columns", ())]
        self._results: tuple[Processor, ...] | None = None  # from the first result's column types

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for one execution (a KeyError names a value the caller left out)."""
        converted = [values[name] if process is None else process(values[name]) for name, process in self.binds]
        return tuple(converted) if self.keys is None else dict(zip(self.keys, converted, strict=True))

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> None:
        """Run the statement once in `connection`'s transaction."""
        cursor = connection.connection.cursor()
        try:
            self._call(cursor.execute, self.parameters(values))
        finally:
            cursor.close()

    def executemany(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row, in `connection`'s transaction."""
        cursor = connection.connection.cursor()
        try:
            self._call(cursor.executemany, [self.parameters(row) for row in rows])
        finally:
            cursor.close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run a statement that returns rows (SELECT, RETURNING) and return its first row, or None."""
        cursor = connection.connection.cursor()
        try:
            self._call(cursor.execute, self.parameters(values))
            rows = cursor.fetchall()  # all: SQLite finishes a RETURNING statement only once it is read out
            if not rows:
                return None
            return self._row(cursor, rows[0])
        finally:
            cursor.close()

    def _row(self, cursor: DBAPICursor, row: Sequence[Any]) -> tuple[Any, ...]:
        if self._results is None:
            codes = [column[1] for column in cursor.description or ()]
            self._results = tuple(
                kind.dialect_impl(self.dialect).result_processor(self.dialect, code)
                for kind, code in zip(self.returns, codes, strict=True)
            )
        pairs = zip(row, self._results, strict=True)
        return tuple(value if process is None else process(value) for value, process in pairs)

    def _call(self, method: Callable[[str, Any], object], parameters: Any) -> None:
        dbapi_error = self.dialect.loaded_dbapi.Error
        try:
            method(self.sql, parameters)
        except dbapi_error as error:
            raise DBAPIError.instance(self.sql, parameters, error, dbapi_error, dialect=self.dialect) from error
