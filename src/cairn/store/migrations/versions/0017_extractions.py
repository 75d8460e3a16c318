"""extractions: a record of every ingest of an integration

Revision ID: 0017_extractions
Revises: 0015_trust_indexes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_extractions"
down_revision: str | None = "0015_trust_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Str = sa.String().with_variant(sa.String(collation="C"), "postgresql")
Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Id = sa.String(length=36)
Ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "extraction",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("integration_id", Id, nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", Str, nullable=False),
        sa.Column("started_at", Ts, nullable=False),
        sa.Column("finished_at", Ts, nullable=False),
        sa.Column("summary", Json, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_extraction")),
        sa.UniqueConstraint("id", name=op.f("uq_extraction_id")),
    )
    op.create_index("ix_extraction_started", "extraction", ["workspace_id", "started_at"])
    op.create_index(
        "ix_extraction_integration", "extraction", ["workspace_id", "integration_id", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_extraction_integration", table_name="extraction")
    op.drop_index("ix_extraction_started", table_name="extraction")
    op.drop_table("extraction")
