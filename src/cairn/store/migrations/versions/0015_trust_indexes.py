"""indexes for permission checks

Revision ID: 0015_trust_indexes
Revises: 0016_perf

Permission checks probe a resource's team rows once per candidate row: the member index by
resource gains ``field`` and ``value`` so each probe is answered from the index alone. Viewers'
and guests' lists add ``published = true``: an index with it right after the type lets those
lists count from the index alone, as admins' lists do.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_trust_indexes"
down_revision: str | None = "0016_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_resource_member_resource", table_name="resource_member")
    op.create_index("ix_resource_member_resource", "resource_member", ["resource_pk", "field", "value"])
    op.create_index(
        "ix_resource_type_published",
        "resource",
        ["workspace_id", "entity_type", "published", "archived", "stale", "external_usage", "title"],
    )


def downgrade() -> None:
    op.drop_index("ix_resource_type_published", table_name="resource")
    op.drop_index("ix_resource_member_resource", table_name="resource_member")
    op.create_index("ix_resource_member_resource", "resource_member", ["resource_pk"])
