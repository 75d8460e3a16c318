"""text index: merge each FTS5 table into one segment

Revision ID: 0020_fts_segments
Revises: 0019_trust

A database filled by ``cairn import`` before this revision holds its text index in one segment
per flushed batch level (20 at 1M resources); every term lookup seeks in each of them (a typo
search's few hundred variant lookups: 11 ms at 1M, 1.3 ms in one segment). The importer now
merges them when it ends (store/search.py ``merge_segments``); this does it once for existing
databases. SQLite only: PostgreSQL's GIN index has no segments. Nothing to undo on downgrade.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_fts_segments"
down_revision: str | None = "0019_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The FTS5 tables of 0012_search and 0019_search, named here so this never changes with the code.
FTS_TABLES = ("resource_fts", "resource_fts_entities")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in FTS_TABLES:
        op.execute(f"INSERT INTO {name}({name}) VALUES ('optimize')")


def downgrade() -> None:
    pass  # merging segments changes no content
