"""Bulk inserts on SQLite: run the ``AFTER INSERT`` triggers of ``resource`` once per batch.

The search index (``resource_fts``) and the search documents (``search_doc``) follow
``resource`` through row triggers (migrations 0012_search, 0012_search_doc). Per row, SQLite
runs each trigger's statements as separate programs: at 30,000 rows that cost about 100 us a row,
four times the same statements run once over the whole batch (measured with ``bench/``). So a
bulk insert, inside its own write transaction, drops those triggers, inserts, runs each
trigger's body once for every row it inserted (``new`` becomes an alias of ``resource``), and
creates the triggers again from their stored text. The transaction commits or rolls back all
of it together, and SQLite has a single writer, so no other connection ever sees the table
without its triggers or a row without its index entries.

Only trigger bodies of a known shape are converted (``INSERT ... VALUES (...)`` and
``UPDATE ... WHERE pk = new.pk``), with an optional ``WHEN`` condition on ``new`` (the lane of
non-columns, 0019_search, is kept by ``WHEN new.entity_type <> 'column'``), which becomes part of
the set-based statement's ``WHERE``; any other trigger keeps firing per row.

One body has a cheaper equivalent: ``search_doc_insert`` makes its words with about 80 nested
``replace()`` calls a row (SQLite has no regular expressions), 14 us of the writer's CPU per row
set-based; ``search_words``/``search_key``, registered on every connection, compute the same
strings with ``str.translate``. It is used only while the trigger's text is exactly the one it
was written against (its digest below), so a later migration that changes the trigger falls
back to the set-based form of whatever the trigger then says.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from string import ascii_lowercase, ascii_uppercase

from sqlalchemy import Connection

# Below this many rows the schema change (which makes every connection re-prepare its
# statements) costs more than the per-row triggers.
MIN_ROWS = 500

_HEADER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(\w+)\s+AFTER\s+INSERT\s+ON\s+(\w+)\s+(?:WHEN\s+(.+?)\s+)?BEGIN\s", re.I | re.S
)
_INSERT = re.compile(r"^\s*(INSERT\s+INTO\s+\w+\s*\([\w\s,]+\))\s*VALUES\s*\((.*)\)\s*$", re.I | re.S)
_UPDATE_BY_ROW = re.compile(r"^(\s*UPDATE\s+\w+\s+SET\s.*\sWHERE)\s+pk\s*=\s*new\.pk\s*$", re.I | re.S)


@dataclass(frozen=True)
class _SetBased:
    name: str
    create_sql: str
    # Each statement runs once for the batch, with the first inserted pk appended.
    statements: tuple[str, ...]


def _split_statements(body: str) -> list[str] | None:
    """The statements of a trigger body, split at semicolons outside string literals."""
    statements: list[str] = []
    current: list[str] = []
    quoted = False
    for char in body:
        if char == "'":
            quoted = not quoted  # a doubled quote toggles twice: still right
        if char == ";" and not quoted:
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        return None
    if "".join(current).strip():
        return None  # a trigger body ends with a semicolon before END
    return [s.strip() for s in statements if s.strip()]


def _convert(table: str, name: str, create_sql: str) -> _SetBased | None:
    header = _HEADER.match(create_sql)
    end = create_sql.rstrip()
    if header is None or header.group(2) != table or not end.upper().endswith("END"):
        return None
    statements = _split_statements(end[header.end() : -3])
    if not statements:
        return None
    # ``WHEN <condition>`` (over ``new``) keeps the rows it selects: the same condition over the
    # alias ``new`` narrows the set-based statement. A row-wise UPDATE cannot carry it.
    when = header.group(3)
    if when is not None and (_split_statements(when + ";") != [when.strip()] or "old." in when.lower()):
        return None
    converted: list[str] = []
    for statement in statements:
        insert = _INSERT.match(statement)
        update = _UPDATE_BY_ROW.match(statement)
        if insert is not None:
            narrowed = f"({when.strip()}) AND " if when is not None else ""
            converted.append(
                f"{insert.group(1)} SELECT {insert.group(2)} FROM {table} AS new WHERE {narrowed}new.pk >= "
            )
        elif update is not None and when is None and "new." not in update.group(1).lower():
            converted.append(f"{update.group(1)} pk >= ")
        else:
            return None
    return _SetBased(name, create_sql, tuple(converted))


# The words of migration 0012_search_doc: its separators, and ASCII-only case (SQLite's
# lower() and upper() change nothing else).
_SEPARATOR_CHARS = "_.-/:,;()[]{}\"'#@&+=!?*|\t\n"
_SEPARATORS = str.maketrans(dict.fromkeys(_SEPARATOR_CHARS, " "))
# The same on ASCII bytes: a table lookup a byte, where str.translate with a mapping looks up
# each character in a dict (2 us for a column's 50-character path, most of its words' cost).
_SEPARATOR_BYTES = bytes.maketrans(_SEPARATOR_CHARS.encode(), b" " * len(_SEPARATOR_CHARS))
_LOWER = str.maketrans(ascii_uppercase, ascii_lowercase)
_UPPER = str.maketrans(ascii_lowercase, ascii_uppercase)
_CAMEL = str.maketrans({letter: f" {letter}" for letter in ascii_uppercase})


def _spaced_lower(value: str | None) -> str:
    """The trigger's ``spaced(camel_lower(value))``: camelCase split unless the value is all one
    case, lower-cased, every separator a space. (Not cached: on ASCII text it costs what a
    cache miss does, and every row's path is a miss that would push titles out.)"""
    text = value or ""
    if text.isascii():  # str.lower() and str.upper() are SQLite's on ASCII text
        lower = text.lower()
        if lower != text and text.upper() != text:
            lower = text.translate(_CAMEL).lower()
        return lower.encode("ascii").translate(_SEPARATOR_BYTES).decode("ascii")
    else:
        lower = text.translate(_LOWER)
        if lower != text and text.translate(_UPPER) != text:
            lower = text.translate(_CAMEL).translate(_LOWER)
    return lower.translate(_SEPARATORS)


def search_words(value: str | None) -> str:
    """``framed(spaced(camel_lower(value)))``: runs of up to 32 spaces collapsed (five passes of
    ``replace('  ', ' ')``, as the trigger does), trimmed, one space at each end."""
    text = _spaced_lower(value)
    if "  " in text:
        for _ in range(5):
            text = text.replace("  ", " ")
    return f" {text.strip(' ')} "


def search_key(value: str | None) -> str:
    """``replace(spaced(camel_lower(value)), ' ', '')``: the words without spaces."""
    return _spaced_lower(value).replace(" ", "")


def register_functions(dbapi_connection: sqlite3.Connection) -> None:
    dbapi_connection.create_function("cairn_search_words", 1, search_words, deterministic=True)
    dbapi_connection.create_function("cairn_search_key", 1, search_key, deterministic=True)


_SEARCH_DOC_INSERT = (
    "INSERT INTO search_doc (pk, workspace_id, entity_type, published, archived, stale, integration_id, "
    "database, schema, boost, title_key, title_words, path_words, team_set, hidden_above, parent_id) "
    "SELECT new.pk, new.workspace_id, new.entity_type, new.published, new.archived, new.stale, "
    "new.integration_id, json_extract(new.search_metadata, '$.database'), "
    "json_extract(new.search_metadata, '$.schema'), "
    "min(12.0, 0.75 * ln(1.0 + new.internal_usage + new.external_usage)) "
    "+ CASE WHEN new.verified THEN 4.0 ELSE 0.0 END "
    "+ CASE WHEN coalesce(new.description, '') <> '' THEN 3.0 ELSE 0.0 END, "
    "cairn_search_key(new.title), cairn_search_words(new.title), cairn_search_words(new.title_full), "
    "new.team_set, new.hidden_above, new.parent_id "
    "FROM resource AS new WHERE new.pk >= "
)
# sha256 of the CREATE TRIGGER text (sqlite_master.sql) each native statement replaces (as of
# migration 0022_search_doc_ancestry).
_NATIVE = {
    ("search_doc_insert", "7a919937940dafd2e66d084fd90dc04ce3b564999dfcb491af06acfc776359cd"): (
        _SEARCH_DOC_INSERT,
    ),
}


def _native(name: str, create_sql: str) -> _SetBased | None:
    statements = _NATIVE.get((name, hashlib.sha256(create_sql.encode()).hexdigest()))
    return _SetBased(name, create_sql, statements) if statements else None


_cache: dict[tuple[str, str], _SetBased | None] = {}


def _set_based_triggers(conn: Connection, table: str) -> list[_SetBased]:
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
        (table,),
    ).all()
    found: list[_SetBased] = []
    for name, sql in rows:
        key = (name, sql)
        if key not in _cache:
            _cache[key] = _native(name, sql) or _convert(table, name, sql)
        converted = _cache[key]
        if converted is not None:
            found.append(converted)
    return found


@contextmanager
def once_per_batch(conn: Connection, table: str, rows: int) -> Iterator[None]:
    """Inside a write transaction: rows inserted into ``table`` (SQLite, an INTEGER PRIMARY KEY
    ``pk`` allocated above every existing one) get their insert triggers' effects set-based.

    Every row with a pk above the table's largest when the block starts is treated as inserted
    by it: the caller holds the single write lock and inserts with ascending pks.
    """
    if conn.dialect.name != "sqlite" or rows < MIN_ROWS:
        yield
        return
    triggers = _set_based_triggers(conn, table)
    if not triggers:
        yield
        return
    first = int(conn.exec_driver_sql(f"SELECT coalesce(max(pk), 0) + 1 FROM {table}").scalar_one())
    for trigger in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {trigger.name}")
    try:
        yield
    finally:
        # Also after an error: a caller that catches it and commits must not lose the triggers
        # or the index entries of the rows it did insert.
        for trigger in triggers:
            for statement in trigger.statements:
                conn.exec_driver_sql(f"{statement}{first}")
        for trigger in triggers:
            conn.exec_driver_sql(trigger.create_sql)
