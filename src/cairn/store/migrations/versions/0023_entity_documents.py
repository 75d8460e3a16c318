"""search: the non-columns' documents whole, in an index of their own (SQLite)

Revision ID: 0023_entity_documents
Revises: 0022_search_doc_ancestry

A search counts, facets and ranks its non-column matches from their documents (core/search.py).
Those rows are one in ten of ``search_doc``, spread over all of it: a common word's few
thousand matches touch as many pages, which a 32 MB page cache cannot keep, so each search read
most of them again from the file ("snapshot" at 1M resources: 6,472 matches, the facet count
20 -> 7 ms read through this index). This index holds those rows whole, in pk order, in a
tenth of the table's pages, which do stay in the cache. PostgreSQL has no use for it (its
planner, not a hint, picks the access path): SQLite only.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023_entity_documents"
down_revision: str | None = "0022_search_doc_ancestry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# With what every caller's visibility rule and the path guard read (0021_search_doc_team_set,
# 0022_search_doc_ancestry), so that a viewer's search reads the index alone too.
COLUMNS = (
    "pk, workspace_id, archived, stale, published, team_set, hidden_above, parent_id, entity_type, "
    "integration_id, database, schema, boost, title_key, title_words, path_words"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f"CREATE INDEX ix_search_doc_entity_documents ON search_doc ({COLUMNS}) WHERE entity_type <> 'column'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_search_doc_entity_documents")
