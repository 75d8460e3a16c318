"""surface ingest state: a digest of what the last metadata ingest wrote for each resource

Revision ID: 0013_surface_ingest_state
Revises: 0012_search_doc
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_surface_ingest_state"
down_revision: str | None = "0012_search_doc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ingest_state",
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resource.pk"],
            name=op.f("fk_ingest_state_resource_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_pk", name=op.f("pk_ingest_state")),
    )


def downgrade() -> None:
    op.drop_table("ingest_state")
