"""indexes for the catalog's hot lists: children by usage, title substring search

Revision ID: 0008_list_indexes
Revises: 0007_history

The children of a resource are listed in usage order, so the parent index carries
external_usage (otherwise SQLite walks the usage index of the whole workspace). On PostgreSQL,
substring filters on titles (ILIKE) get a pg_trgm index. SQLite keeps scanning the type index:
an FTS5 trigram prefilter measured slower there, because its planner cannot tell how many
candidates a trigram match returns (common fragments such as "cust" hit every column named
customer_id).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_list_indexes"
down_revision: str | None = "0007_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_resource_parent", table_name="resource")
    op.create_index("ix_resource_parent", "resource", ["workspace_id", "parent_id", "external_usage"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_resource_title_trgm ON resource USING gin (title gin_trgm_ops)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_resource_title_trgm")
    op.drop_index("ix_resource_parent", table_name="resource")
    op.create_index("ix_resource_parent", "resource", ["workspace_id", "parent_id"])
