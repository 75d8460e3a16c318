"""surface ingest: uploaded integration artifacts (dbt manifest, run results); ingest digests

Revision ID: 0013_surface_ingest
Revises: 0011_lineage
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0013_surface_ingest"
down_revision: str | None = "0011_lineage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_artifact",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "integration_id", "name", name=op.f("pk_integration_artifact")
        ),
    )

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
    op.drop_table("integration_artifact")
