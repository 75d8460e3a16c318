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

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select

from cairn.store.schema import deferred_index

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
