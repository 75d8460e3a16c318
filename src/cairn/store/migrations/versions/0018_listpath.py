"""an index of what a caller may see, for the counts of unfiltered lists

Revision ID: 0018_listpath
Revises: 0017_search_gin

An unfiltered catalog list counts every resource the caller may see. Through
``ix_resource_usage`` that tested two flags per index entry for an admin and, for a viewer or
guest, ``published`` and the team set as well (a third to a half more at a million resources).
``ix_resource_visible`` (workspace, archived, stale, team_set, published) makes the count one
range per visible team set, with no per-entry test, for every role. SQLite's planner, given
this index's statistics, scans and sorts the whole table for a page sorted by usage instead
of walking ``ix_resource_usage``; the list statements name that index for such pages
(``store/resources.py``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_listpath"
down_revision: str | None = "0017_search_gin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_resource_visible", "resource", ["workspace_id", "archived", "stale", "team_set", "published"]
    )
    if op.get_context().dialect.name == "sqlite":
        # SQLite plans from sqlite_stat1 rows per index; a new index without one competes on
        # guesses. PostgreSQL's column statistics already cover it.
        op.execute("ANALYZE ix_resource_visible")


def downgrade() -> None:
    op.drop_index("ix_resource_visible", table_name="resource")
