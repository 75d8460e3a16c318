"""surface ingest: the artifacts an integration uploaded (dbt manifest and run results)

Revision ID: 0013_surface_ingest
Revises: 0015_trust
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_surface_ingest"
down_revision: str | None = "0015_trust"
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


def downgrade() -> None:
    op.drop_table("integration_artifact")
