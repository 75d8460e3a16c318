"""exact-name lookups of one entity type (collections by name) use the title index

Revision ID: 0016_perf
Revises: 0013_surface_ingest_state

``title = ? AND entity_type = ?`` (the DataForce ``?name=`` filter, the SDK's
``collections.get(name)``) had two equally good two-column indexes to choose from; without
statistics SQLite took the type index and compared every collection's title (10,000
collections: one index entry per collection instead of one). With the type inside the title
index the lookup has one clear index, and title sorts keep using its prefix.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_perf"
down_revision: str | None = "0013_surface_ingest_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_resource_title", table_name="resource")
    op.create_index("ix_resource_title", "resource", ["workspace_id", "title", "entity_type"])


def downgrade() -> None:
    op.drop_index("ix_resource_title", table_name="resource")
    op.create_index("ix_resource_title", "resource", ["workspace_id", "title"])
