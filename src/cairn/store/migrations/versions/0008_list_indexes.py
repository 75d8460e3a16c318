"""indexes for the catalog's hot lists: children by usage, title substring search

Revision ID: 0008_list_indexes
Revises: 0007_history

The children of a resource are listed in usage order, so the parent index carries
external_usage (otherwise SQLite walks the usage index of the whole workspace). Substring
filters on titles get a trigram index: FTS5 ``trigram`` on SQLite, pg_trgm on PostgreSQL.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_list_indexes"
down_revision: str | None = "0007_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGRAM = [
    "CREATE VIRTUAL TABLE resource_title_trgm USING fts5("
    "title, content='resource', content_rowid='pk', tokenize='trigram')",
    "CREATE TRIGGER resource_title_trgm_ai AFTER INSERT ON resource BEGIN "
    "INSERT INTO resource_title_trgm(rowid, title) VALUES (new.pk, new.title); END",
    "CREATE TRIGGER resource_title_trgm_ad AFTER DELETE ON resource BEGIN "
    "INSERT INTO resource_title_trgm(resource_title_trgm, rowid, title) VALUES ('delete', old.pk, old.title); END",
    "CREATE TRIGGER resource_title_trgm_au AFTER UPDATE OF title ON resource BEGIN "
    "INSERT INTO resource_title_trgm(resource_title_trgm, rowid, title) VALUES ('delete', old.pk, old.title); "
    "INSERT INTO resource_title_trgm(rowid, title) VALUES (new.pk, new.title); END",
    "INSERT INTO resource_title_trgm(resource_title_trgm) VALUES ('rebuild')",
]


def upgrade() -> None:
    op.drop_index("ix_resource_parent", table_name="resource")
    op.create_index("ix_resource_parent", "resource", ["workspace_id", "parent_id", "external_usage"])
    if op.get_context().dialect.name == "sqlite":
        for statement in SQLITE_TRIGRAM:
            op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_resource_title_trgm ON resource USING gin (title gin_trgm_ops)")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in ("resource_title_trgm_ai", "resource_title_trgm_ad", "resource_title_trgm_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS resource_title_trgm")
    else:
        op.execute("DROP INDEX IF EXISTS ix_resource_title_trgm")
    op.drop_index("ix_resource_parent", table_name="resource")
    op.create_index("ix_resource_parent", "resource", ["workspace_id", "parent_id"])
