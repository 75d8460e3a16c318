"""Secondary indexes a bulk load into an (almost) empty SQLite database builds once, at the end.

Inserting a million rows into ``resource`` keeps seven secondary indexes up to date row by row,
each a random walk down a b-tree whose pages no longer fit the cache: that was about half the
importer's CPU. ``CREATE INDEX`` over the loaded table sorts instead, a few microseconds a row
per index. So ``defer`` drops the secondary indexes (a unique one only when asked, with a
guard trigger that keeps refusing duplicates meanwhile) and, in the same transaction, writes each
one's ``CREATE INDEX`` text to ``deferred_index``; ``restore`` creates them again and deletes
those rows, also in one transaction. SQLite DDL is transactional, so a crash (kill -9) at any
point leaves either the indexes or the rows that name them, and ``Store.migrate`` (every server
start, every CLI command) calls ``restore``: no database stays without its indexes. Meanwhile
queries are right, only slower (a scan where the index would serve), which is why only a
database with next to nothing in it is ever emptied of its indexes.
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
# The page cache while the indexes are built (KiB, as PRAGMA cache_size takes it negative). The
# sorter holds up to a cache's worth of keys in memory and, when they all fit, sorts them on the
# building thread alone: the import's 256 MiB cache held a whole 1M-row index. Runs of 16 MiB
# are sorted by the helper threads while the scan goes on, then merged by them. SQLite starts no
# helper at all while temporary storage is in memory (the connections' temp_store=MEMORY), so
# the build spills its runs to temporary files instead (``sorting_threads``; unlinked at once,
# the OS caches them).
# One index at 1M: 5.2-6.6 s wall and CPU before, 2.3 s wall and 3.8 s CPU in all threads.
SORT_CACHE_KIB = 16384


def defer(conn: Connection, tables: Sequence[str], unique: Sequence[str] = ()) -> list[str]:
    """Inside a write transaction: drop the non-unique indexes of ``tables``, and the unique
    indexes named in ``unique``; their names.

    A dropped unique index leaves a guard trigger in its place (``guarded``): other writers'
    inserts keep being refused on a duplicate key (by a scan instead of an index probe), with
    the same constraint error. The bulk load itself, which checks its own keys, inserts under
    ``unguarded``.
    """
    if conn.dialect.name != "sqlite":
        return []
    marks = ",".join("?" for _ in tables)
    rows = conn.exec_driver_sql(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY name",
        tuple(tables),
    ).all()
    rows = [row for row in rows if not _is_unique(row[2]) or row[0] in unique]
    if not rows:
        return []
    conn.execute(
        insert(deferred_index),
        [{"name": name, "table_name": table, "definition": sql} for name, table, sql in rows],
    )
    for name, table, sql in rows:
        guard = _guard_sql(conn, name, table) if _is_unique(sql) else None
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
        if guard is not None:
            conn.exec_driver_sql(guard)
    return [name for name, _table, _sql in rows]


def _is_unique(definition: str) -> bool:
    return definition.lstrip().upper().startswith("CREATE UNIQUE")


def _guard_name(index: str) -> str:
    return f"{index}_guard"


def _guard_sql(conn: Connection, index: str, table: str) -> str:
    """A trigger that refuses what the unique index ``index`` would, with SQLite's own message."""
    columns = [row[2] for row in conn.exec_driver_sql(f'PRAGMA index_info("{index}")')]
    if not columns or any(column is None for column in columns):
        raise ValueError(f"index {index} is not over plain columns")
    same = " AND ".join(f'"{column}" = new."{column}"' for column in columns)
    message = "UNIQUE constraint failed: " + ", ".join(f"{table}.{column}" for column in columns)
    return (
        f'CREATE TRIGGER "{_guard_name(index)}" BEFORE INSERT ON "{table}" '
        f'WHEN EXISTS (SELECT 1 FROM "{table}" WHERE {same}) '
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def _guards(conn: Connection) -> list[tuple[str, str]]:
    """The guard triggers of deferred unique indexes: (name, CREATE TRIGGER text)."""
    names = [_guard_name(name) for name in pending(conn)]
    if not names:
        return []
    marks = ",".join("?" for _ in names)
    return [
        (name, sql)
        for name, sql in conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", tuple(names)
        )
    ]


@contextmanager
def unguarded(conn: Connection) -> Iterator[None]:
    """Inside a write transaction: the guards of deferred unique indexes are off for the block
    (the bulk load has checked its keys against everything in the table; a guard's scan per row
    would cost more than the index it stands in for). They are back before the transaction
    ends, so no other connection ever writes without them."""
    guards = _guards(conn)
    for name, _sql in guards:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        for _name, sql in guards:
            conn.exec_driver_sql(sql)


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
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA threads={SORT_THREADS}")
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SORT_CACHE_KIB}")
    try:
        for name, definition in rows:
            if name not in present:
                conn.exec_driver_sql(definition)
            # The index refuses duplicates again (and a build that found one has failed above,
            # leaving the guard, the other indexes and the marks as they were).
            conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{_guard_name(name)}"')
    finally:
        conn.exec_driver_sql(f"PRAGMA threads={int(threads)}")
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
    conn.execute(delete(deferred_index).where(deferred_index.c.name.in_([name for name, _ in rows])))
    return [name for name, _ in rows]


@contextmanager
def sorting_threads(store: Store) -> Iterator[None]:
    """Around the write transaction that runs ``restore``: temporary storage in files, which the
    sorter's helper threads need (see SORT_CACHE_KIB). SQLite changes it only outside a
    transaction once a connection has opened its temp database (as the import's has), so it is
    set on the driver's connection before and after, not by ``restore``. The write engine has one
    connection: the same one runs the builds."""
    if store.dialect != "sqlite":
        yield
        return
    before = _driver_pragma(store, "temp_store", "FILE")
    try:
        yield
    finally:
        _driver_pragma(store, "temp_store", str(before))


def _driver_pragma(store: Store, name: str, value: str) -> int:
    """Set a pragma outside any transaction; its value before."""
    with store.engine.connect() as conn:  # no statement through SQLAlchemy: no BEGIN
        driver = conn.connection.driver_connection
        assert driver is not None
        before = int(driver.execute(f"PRAGMA {name}").fetchone()[0])
        driver.execute(f"PRAGMA {name}={value}")
        return before


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
