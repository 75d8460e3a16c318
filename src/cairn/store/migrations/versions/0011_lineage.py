"""lineage: directed edges between resources, at table or column level, with their origin

Revision ID: 0011_lineage
Revises: 0004_surface
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_lineage"
down_revision: str | None = "0004_surface"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Id = sa.String(length=36)
Ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lineage_edge",
        sa.Column("pk", Pk, autoincrement=True, nullable=False),
        sa.Column("workspace_id", Id, nullable=False),
        sa.Column("id", Id, nullable=False),
        sa.Column("reverse_id", Id, nullable=False),
        sa.Column("upstream_pk", Pk, nullable=False),
        sa.Column("downstream_pk", Pk, nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_lineage_edge_workspace_id_workspace")
        ),
        sa.ForeignKeyConstraint(
            ["upstream_pk"],
            ["resource.pk"],
            name=op.f("fk_lineage_edge_upstream_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["downstream_pk"],
            ["resource.pk"],
            name=op.f("fk_lineage_edge_downstream_pk_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_lineage_edge")),
        sa.UniqueConstraint("workspace_id", "id", name="uq_lineage_edge_workspace_id"),
        sa.UniqueConstraint("workspace_id", "reverse_id", name="uq_lineage_edge_reverse_id"),
        sa.UniqueConstraint("upstream_pk", "downstream_pk", "origin", name="uq_lineage_edge_ends"),
    )
    op.create_index("ix_lineage_edge_downstream", "lineage_edge", ["downstream_pk", "upstream_pk"])


def downgrade() -> None:
    op.drop_index("ix_lineage_edge_downstream", table_name="lineage_edge")
    op.drop_table("lineage_edge")
