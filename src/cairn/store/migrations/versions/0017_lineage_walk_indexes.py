"""covering indexes for lineage walks

Revision ID: 0017_lineage_walk_indexes
Revises: 0017_trust_team_sets

A hop of a lineage walk looks up the edges of one level leaving (or entering) a resource and
needs only the other end. ``(upstream_pk, level, downstream_pk)`` and ``(downstream_pk, level,
upstream_pk)`` answer it from the index alone; before, each edge found by the end's index was
read from the table to test its level. The downstream index replaces ``(downstream_pk,
upstream_pk)``, whose uses it covers.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_lineage_walk_indexes"
down_revision: str | None = "0017_trust_team_sets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_lineage_edge_downstream", table_name="lineage_edge")
    op.create_index("ix_lineage_edge_downstream", "lineage_edge", ["downstream_pk", "level", "upstream_pk"])
    op.create_index("ix_lineage_edge_upstream", "lineage_edge", ["upstream_pk", "level", "downstream_pk"])


def downgrade() -> None:
    op.drop_index("ix_lineage_edge_upstream", table_name="lineage_edge")
    op.drop_index("ix_lineage_edge_downstream", table_name="lineage_edge")
    op.create_index("ix_lineage_edge_downstream", "lineage_edge", ["downstream_pk", "upstream_pk"])
