"""The storage handle: one interface over SQLite (embedded) and PostgreSQL (production).

SQLite gets two engines. Reads use a pool of connections in WAL mode; writes go through a
single connection that opens every transaction with ``BEGIN IMMEDIATE``, so concurrent
writers queue in-process instead of failing with "database is locked" when a read lock
cannot be upgraded. PostgreSQL uses one pooled engine; read-modify-write rules there rely on
row locks (``FOR UPDATE``) and atomic ``UPDATE ... SET x = x + 1`` statements in the core.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.selectable import FromClause

from cairn.store import insert_triggers

DEFAULT_DATABASE_URL = "sqlite:///cairn.db"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def normalize_url(url: str) -> str:
    """Accept the URLs people type (``postgresql://``, a bare file path) and pick drivers."""
    if "://" not in url:
        return f"sqlite:///{url}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return url


def database_url_from_env(explicit: str | None = None) -> str:
    return normalize_url(explicit or os.environ.get("CAIRN_DATABASE_URL") or DEFAULT_DATABASE_URL)


class Store:
    """Opens transactions. ``read()`` for queries, ``write()`` for anything that changes data."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        common: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
        }
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:"):
                raise ValueError("Cairn needs a SQLite file (WAL mode); ':memory:' is not supported")
            self.path: Path | None = Path(database).expanduser().resolve()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._read_engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                connect_args={"check_same_thread": False, "timeout": 30},
                **common,
            )
            self._write_engine = create_engine(
                self.url,
                pool_size=1,
                max_overflow=0,
                pool_timeout=60,
                connect_args={"check_same_thread": False, "timeout": 30},
                **common,
            )
            _configure_sqlite(self._read_engine, begin="BEGIN")
            _configure_sqlite(self._write_engine, begin="BEGIN IMMEDIATE")
        elif self.dialect == "postgresql":
            self.path = None
            engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                **common,
            )
            self._read_engine = engine
            self._write_engine = engine
        else:
            raise ValueError(f"unsupported database '{self.dialect}': use sqlite or postgresql")

    @property
    def engine(self) -> Engine:
        return self._write_engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._read_engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._write_engine.connect() as conn, conn.begin():
            yield conn

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision (alembic), and build any index an
        interrupted bulk import left unbuilt (``store/deferred_indexes.py``)."""
        from cairn.store import deferred_indexes
        from cairn.store.migrate import upgrade

        upgrade(self)
        if self.dialect == "sqlite":
            # A bulk import that died before building its deferred indexes left their names:
            # build them now, before anything serves from this database (one still running
            # builds them itself when it ends).
            with self.read() as conn:
                missing = deferred_indexes.pending(conn)
            if missing and not deferred_indexes.import_running(self):
                with deferred_indexes.sorting_threads(self), self.write() as conn:
                    deferred_indexes.restore(conn)

    def dispose(self) -> None:
        self._read_engine.dispose()
        self._write_engine.dispose()


# The first 128 MiB of the file (the hot b-tree pages) is mapped, the rest read with pread:
# mapped pages count in the server's RSS, and a whole 1M-resource file mapped took it from
# 112 MB of its own to 350 MB (issue 2 holds the server under 300 MB).
SQLITE_MMAP_BYTES = 128 << 20


class _SQLiteCompiler(SQLiteCompiler):
    """SQLAlchemy's SQLite compiler drops table hints; this one writes them after the table,
    where SQLite's ``INDEXED BY`` goes (``Select.with_hint(table, "INDEXED BY ...", "sqlite")``)."""

    def get_from_hint_text(self, table: FromClause, text: str | None) -> str | None:
        return text


def _configure_sqlite(engine: Engine, *, begin: str) -> None:
    engine.dialect.statement_compiler = _SQLiteCompiler

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is off; SQLAlchemy's "begin" event emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Only takes effect when the file is new (WAL fixes the page size afterwards): 8 KiB
        # pages measured about 20% cheaper than 4 KiB for bulk inserts into the UUID indexes.
        cursor.execute("PRAGMA page_size=8192")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-32000")
        # Reads map the file instead of copying every page through the 32 MB cache: a search
        # visits one search document per match, spread over the whole table (at 1M resources a
        # common word's 94,000 matches touch most of its pages), and pread plus copy of each page
        # was most of that pass (measured: 298 ms -> 44 ms for the count with the whole file mapped).
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()
        insert_triggers.register_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)


def single_connection_store(url: str) -> Store:
    """A store for short-lived tools (CLI) that should not keep a pool open."""
    store = Store(url, pool_size=1)
    return store


__all__ = ["DEFAULT_DATABASE_URL", "NullPool", "Store", "database_url_from_env", "normalize_url"]
