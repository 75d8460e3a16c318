"""connectors: what each source last wrote onto a resource (re-crawls, staleness)

Revision ID: 0014_connectors
Revises: 0013_surface_ingest
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_connectors"
down_revision: str | None = "0013_surface_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Str = sa.String().with_variant(sa.String(collation="C"), "postgresql")
Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Id = sa.String(length=36)
Ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_record",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("integration_id", Id, nullable=False),
        sa.Column("databuilder_id", Str, nullable=False),
        sa.Column("resource_pk", Pk, nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("written", Json, nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("seen_at", Ts, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resource.pk"],
            name=op.f("fk_source_record_resource_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_source_record")),
        sa.UniqueConstraint("workspace_id", "integration_id", "databuilder_id", name="uq_source_record_key"),
    )
    op.create_index("ix_source_record_resource", "source_record", ["resource_pk"])


def downgrade() -> None:
    op.drop_index("ix_source_record_resource", table_name="source_record")
    op.drop_table("source_record")
