"""Secondary indexes a bulk load into an (almost) empty SQLite database builds once, at the end.

Inserting a million rows into ``resource`` keeps seven secondary indexes up to date row by row,
each a random walk down a b-tree whose pages no longer fit the cache: that was about half the
importer's CPU. ``CREATE INDEX`` over the loaded table sorts instead, a few microseconds a row
per index. So ``defer`` drops the secondary indexes (never a unique one: those keep ids unique
while other writers run) and, in the same transaction, writes each one's ``CREATE INDEX`` text
to ``deferred_index``; ``restore`` creates them again and deletes those rows, also in one
transaction. SQLite DDL is transactional, so a crash (kill -9) at any point leaves either the
indexes or the rows that name them, and ``Store.migrate`` (every server start, every CLI
command) calls ``restore``: no database stays without its indexes. Meanwhile queries are
right, only slower (a scan where the index would serve), which is why only a database with
next to nothing in it is ever emptied of its indexes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select

from cairn.store.schema import deferred_index

if TYPE_CHECKING:
    from cairn.store.engine import Store

try:
    import fcntl
except ImportError:  # not POSIX: no lock, and a start always builds what is deferred
    fcntl = None  # type: ignore[assignment]

# Sorting threads for CREATE INDEX (SQLite's multi-threaded sorter): the load is over, so the
# validation workers' core is free.
SORT_THREADS = 2


def defer(conn: Connection, tables: Sequence[str]) -> list[str]:
    """Inside a write transaction: drop the non-unique indexes of ``tables``; their names."""
    if conn.dialect.name != "sqlite":
        return []
    marks = ",".join("?" for _ in tables)
    rows = conn.exec_driver_sql(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
        tuple(tables),
    ).all()
    if not rows:
        return []
    conn.execute(
        insert(deferred_index),
        [{"name": name, "table_name": table, "definition": sql} for name, table, sql in rows],
    )
    for name, _table, _sql in rows:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [name for name, _table, _sql in rows]


def pending(conn: Connection) -> list[str]:
    """Names of the indexes a bulk load dropped and nobody has built again yet."""
    if conn.dialect.name != "sqlite":
        return []
    return list(conn.execute(select(deferred_index.c.name).order_by(deferred_index.c.name)).scalars())


def restore(conn: Connection) -> list[str]:
    """Inside a write transaction: build every deferred index; the names built."""
    if conn.dialect.name != "sqlite":
        return []
    rows = conn.execute(
        select(deferred_index.c.name, deferred_index.c.definition).order_by(deferred_index.c.name)
    ).all()
    if not rows:
        return []
    present = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    threads = conn.exec_driver_sql("PRAGMA threads").scalar_one()
    conn.exec_driver_sql(f"PRAGMA threads={SORT_THREADS}")
    try:
        for name, definition in rows:
            if name not in present:
                conn.exec_driver_sql(definition)
    finally:
        conn.exec_driver_sql(f"PRAGMA threads={int(threads)}")
    conn.execute(delete(deferred_index).where(deferred_index.c.name.in_([name for name, _ in rows])))
    return [name for name, _ in rows]


def _lock_path(store: Store) -> str | None:
    return None if store.path is None else f"{store.path}-import.lock"


@contextmanager
def import_lock(store: Store) -> Iterator[None]:
    """Held by an import while its indexes are deferred: the operating system releases it when
    the process ends, however it ends, so a start can tell a live import from a dead one."""
    path = _lock_path(store)
    if path is None or fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def import_running(store: Store) -> bool:
    """Whether a live process holds ``import_lock`` on this database (then it builds the
    deferred indexes itself when it ends; building them under it would hold the write lock for
    as long as the build takes, which the importer's next batch might not wait out)."""
    path = _lock_path(store)
    if path is None or fcntl is None or not os.path.exists(path):
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
