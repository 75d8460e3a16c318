"""resource ids unique by a named index instead of a table constraint, so a bulk import can defer it

Revision ID: 0019_import
Revises: 0018_importer

SQLite cannot drop the index behind a ``UNIQUE`` table constraint, and at a million resources
keeping that random-UUID index up to date row by row is about 8 us of the importer's 50 a row
(bench/README.md, session 5). A named unique index over the same columns is the same b-tree, so
on SQLite this rewrites only the schema text: the table's ``CREATE TABLE`` loses the constraint
and the constraint's automatic index becomes ``CREATE UNIQUE INDEX uq_resource_workspace_id``
(the file format is unchanged, which is the case SQLite's documentation allows
``writable_schema`` for; nothing is copied, so it is instant at any size). PostgreSQL swaps the
constraint for an index of the same name.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_import"
down_revision: str | None = "0018_importer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "uq_resource_workspace_id"
_CONSTRAINT = f"CONSTRAINT {_NAME} UNIQUE (workspace_id, id)"
_INDEX = f"CREATE UNIQUE INDEX {_NAME} ON resource (workspace_id, id)"


def _rewrite_sqlite_schema(table_sql: str, index_name: str, index_sql: str | None, old_name: str) -> None:
    bind = op.get_bind()
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar_one())
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'resource'", (table_sql,)
        )
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET name = ?, sql = ? WHERE type = 'index' AND name = ?",
            (index_name, index_sql, old_name),
        )
        # Every connection re-reads the schema when the version moves.
        bind.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _autoindex() -> str | None:
    rows = op.get_bind().exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'resource' AND sql IS NULL"
        " AND name LIKE 'sqlite_autoindex_resource_%'"
    )
    names = [row[0] for row in rows]
    return names[0] if len(names) == 1 else None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(_NAME, "resource", type_="unique")
        op.create_index(_NAME, "resource", ["workspace_id", "id"], unique=True)
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'resource'"
    ).scalar_one()
    at = table_sql.find(_CONSTRAINT)
    autoindex = _autoindex()
    if at < 0 or autoindex is None:
        raise RuntimeError("resource table does not have the expected unique constraint")
    # The constraint is the table's last clause: drop it with the comma before it.
    head = table_sql[:at].rstrip()
    if not head.endswith(","):
        raise RuntimeError("resource table does not have the expected unique constraint")
    new_sql = head[:-1] + table_sql[at + len(_CONSTRAINT) :]
    _rewrite_sqlite_schema(new_sql, _NAME, _INDEX, autoindex)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_index(_NAME, "resource")
        op.create_unique_constraint(_NAME, "resource", ["workspace_id", "id"])
        return
    deferred = bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (_NAME,)
    ).first()
    if deferred is None:
        # A bulk import died with the index deferred: build it first (a constraint needs its
        # index), as the next start would have.
        bind.exec_driver_sql(_INDEX)
        bind.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{_NAME}_guard"')
        bind.exec_driver_sql("DELETE FROM deferred_index WHERE name = ?", (_NAME,))
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'resource'"
    ).scalar_one()
    end = table_sql.rstrip().rfind(")")
    new_sql = f"{table_sql[:end].rstrip()}, \n\t{_CONSTRAINT}\n)"
    # The automatic index of the first UNIQUE constraint of a table is its _1.
    _rewrite_sqlite_schema(new_sql, "sqlite_autoindex_resource_1", None, _NAME)
