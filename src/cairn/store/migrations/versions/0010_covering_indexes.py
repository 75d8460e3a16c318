"""covering indexes for the catalog's filtered lists

Revision ID: 0010_covering_indexes
Revises: 0009_collections

Listing tables whose title contains a fragment must count every table of the workspace. With
archived, stale and title inside the type index, SQLite answers the count from the index alone
instead of visiting a million rows (measured at 1M resources: 1,037 ms -> 18 ms for the count).
The parent index gets the same flags so children lists never touch rows they will not return.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_covering_indexes"
down_revision: str | None = "0009_collections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_resource_type_usage", table_name="resource")
    op.create_index(
        "ix_resource_type_usage",
        "resource",
        ["workspace_id", "entity_type", "external_usage", "archived", "stale", "title"],
    )
    op.drop_index("ix_resource_parent", table_name="resource")
    op.create_index(
        "ix_resource_parent", "resource", ["workspace_id", "parent_id", "external_usage", "archived", "stale"]
    )


def downgrade() -> None:
    op.drop_index("ix_resource_parent", table_name="resource")
    op.create_index("ix_resource_parent", "resource", ["workspace_id", "parent_id", "external_usage"])
    op.drop_index("ix_resource_type_usage", table_name="resource")
    op.create_index("ix_resource_type_usage", "resource", ["workspace_id", "entity_type", "external_usage"])
