"""The alembic chain builds exactly the schema that ``store/schema.py`` describes, on both backends."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from cairn.store import deferred_indexes
from cairn.store.migrate import alembic_config
from cairn.store.schema import metadata

# Indexes only one backend can express (pg_trgm operator classes, a byte-order collation on
# PostgreSQL) live in migrations alone.
BACKEND_ONLY_INDEXES = {
    "ix_resource_title_trgm",
    "ix_search_doc_entity_title",
    "ix_search_doc_entity_documents",
}
# The search index (0012_search): a tsvector table on PostgreSQL; on SQLite an FTS5 virtual
# table (and the shadow tables FTS5 keeps its index in), which SQLAlchemy cannot describe.
POSTGRES_ONLY_TABLES = {"resource_search"}
SQLITE_ONLY_TABLE_PREFIX = "resource_fts"


def _expected(diff: object, dialect: str) -> bool:
    if not isinstance(diff, tuple):
        return False
    kind, obj = diff[0], diff[1]
    if kind in ("add_table", "remove_table") and obj.name == "alembic_version":
        return True
    if dialect == "sqlite" and kind == "add_table" and obj.name in POSTGRES_ONLY_TABLES:
        return True
    if dialect == "sqlite" and kind == "add_index" and obj.table.name in POSTGRES_ONLY_TABLES:
        return True
    if dialect == "sqlite" and kind == "remove_table" and obj.name.startswith(SQLITE_ONLY_TABLE_PREFIX):
        return True
    return kind == "remove_index" and obj.name in BACKEND_ONLY_INDEXES


def test_one_head(store):
    heads = ScriptDirectory.from_config(alembic_config(store)).get_heads()
    assert len(heads) == 1, heads


def test_migrated_schema_matches_the_table_definitions(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [d for d in compare_metadata(context, metadata) if not _expected(d, store.dialect)]
    assert diff == []


# PostgreSQL only: SQLite's FTS5 index has no pending list.
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_search_index_pending_list_is_small_on_postgresql(store):
    """Migration 0017_search_gin: every lexeme probe scans the GIN pending list."""
    with store.engine.connect() as conn:
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'ix_resource_search_vector'"
        ).scalar_one()
    assert "gin_pending_list_limit=256" in options


def _refuses_a_duplicate_id(store) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    # The columns the table has at this revision (a downgrade may be below later ones).
    with store.engine.connect() as conn:
        present = [c["name"] for c in inspect(conn).get_columns("resource")]
    names = ", ".join(name for name in present if name != "pk")
    try:
        with store.write() as conn:
            conn.exec_driver_sql(f"INSERT INTO resource ({names}) SELECT {names} FROM resource LIMIT 1")
    except IntegrityError:
        return True
    return False


def test_resource_ids_are_unique_by_a_named_index_both_ways(store, admin) -> None:  # type: ignore[no-untyped-def]
    """0019_import: the unique constraint becomes a named index (SQLite: by rewriting the schema
    text only), and back on downgrade; ids stay unique throughout and the file stays intact."""
    from cairn.core.exchange import Importer

    Importer(store, admin, workers=0).run(
        [b'{"kind": "resource", "data": {"entity_type": "document", "title": "a"}}']
    )
    with store.engine.connect() as conn:
        unique = [i["name"] for i in inspect(conn).get_indexes("resource") if i["unique"]]
    assert unique == ["uq_resource_workspace_id"]
    assert _refuses_a_duplicate_id(store)
    config = alembic_config(store)
    with store.write() as conn:
        # As a crashed import leaves it: the downgrade builds the index its constraint needs.
        deferred_indexes.defer(conn, ("resource",), ("uq_resource_workspace_id",))
    with store.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0019_import-1")
    with store.engine.connect() as conn:
        constraints = [c["name"] for c in inspect(conn).get_unique_constraints("resource")]
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    assert constraints == ["uq_resource_workspace_id"]
    assert _refuses_a_duplicate_id(store)
    with store.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with store.engine.connect() as conn:
        assert [c["name"] for c in inspect(conn).get_unique_constraints("resource")] == []
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            autoindexes = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'resource' AND name LIKE 'sqlite_autoindex%'"
            ).all()
            assert autoindexes == []
    assert _refuses_a_duplicate_id(store)
    with store.write() as conn:
        deferred_indexes.restore(conn)
