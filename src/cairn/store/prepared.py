"""Selects compiled once and run on the driver's cursor: the read path's hot statements.

``Connection.execute`` of a prebuilt select still walks the statement for its cache key, sets up
an execution context, fires the engine's events and wraps every row in a ``Row``: on a page of
twenty resources that was more CPU than SQLite spent answering it. A ``Prepared`` select is
compiled once per dialect (its SQL text, parameter order, bind and result processors) and run
on the connection's own DBAPI cursor, inside the caller's transaction. Rows come back as plain
tuples with the values SQLAlchemy's result processors would give (SQLite's 0/1 as booleans,
JSON text decoded), so code that reads rows by position reads them unchanged.

A statement with expanding (``IN`` list) or literal-execute parameters is rendered per
execution by SQLAlchemy; such a statement runs through ``Connection.execute`` instead (same
rows, as tuples).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import CompoundSelect, Select

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Form:
    """A statement as one dialect runs it."""

    sql: str
    positional: bool
    names: tuple[str, ...]  # parameter order (positional paramstyles)
    defaults: Mapping[str, Any]  # values the statement carries itself (literals bound as parameters)
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[tuple[int, Processor], ...]

    def args(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.defaults, **params}
        for name, process in self.binds:
            value = values[name]
            if value is not None:
                values[name] = process(value)
        if self.positional:
            return [values[name] for name in self.names]
        return values


def _compile(statement: Select[Any] | CompoundSelect[Any], dialect: Dialect) -> _Form | None:
    """The statement's form for ``dialect``; None when SQLAlchemy must render it per execution."""
    compiled = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params or compiled.escaped_bind_names:
        return None
    binds: list[tuple[str, Processor]] = []
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
    results: list[tuple[int, Processor]] = []
    for at, column in enumerate(statement.selected_columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((at, process))
    defaults = {name: bind.effective_value for bind, name in compiled.bind_names.items() if not bind.required}
    return _Form(
        sql=compiled.string,
        positional=bool(compiled.positional),
        names=tuple(compiled.positiontup or ()),
        defaults=defaults,
        binds=tuple(dict(binds).items()),
        results=tuple(results),
    )


class Prepared:
    """One select, compiled on first use per dialect; ``rows`` runs it with ``params`` bound."""

    __slots__ = ("_forms", "statement")

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._forms: dict[str, _Form | None] = {}

    def _form(self, dialect: Dialect) -> _Form | None:
        if dialect.name not in self._forms:
            self._forms[dialect.name] = _compile(self.statement, dialect)
        return self._forms[dialect.name]

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows in ``conn``'s transaction, as tuples of processed values."""
        form = self._form(conn.dialect)
        if form is None:
            return [tuple(row) for row in conn.execute(self.statement, params)]
        args = form.args(params)
        driver = conn.connection.dbapi_connection
        assert driver is not None  # an open Connection holds its DBAPI connection
        error = conn.dialect.loaded_dbapi.Error
        cursor = driver.cursor()
        try:
            cursor.execute(form.sql, args)
            fetched: list[tuple[Any, ...]] = list(cursor.fetchall())
        except error as exc:
            # What Connection.execute raises for the same failure (OperationalError, ...).
            raise DBAPIError.instance(form.sql, args, exc, error, dialect=conn.dialect) from exc
        finally:
            cursor.close()
        if not form.results or not fetched:
            return fetched
        out: list[tuple[Any, ...]] = []
        for row in fetched:
            values = list(row)
            for at, process in form.results:
                values[at] = process(values[at])
            out.append(tuple(values))
        return out

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (None without rows)."""
        found = self.rows(conn, params)
        return found[0][0] if found else None


__all__ = ["Prepared"]
