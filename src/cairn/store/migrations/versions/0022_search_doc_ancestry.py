"""search documents carry their resource's ancestry flags and parent, for the search path guard

Revision ID: 0022_search_doc_ancestry
Revises: 0021_search_doc_team_set

A search must not match a resource through the stored path of an ancestor the caller may not
see (core/search.py, ``_PathGuard``). It found the flagged matches (``resource.hidden_above``,
0019_trust) and their parents by reading every match's ``resource`` row by pk: at 1M resources
that pass cost an editor's search more than the whole of an admin's (bench/README.md, session
7). ``search_doc.hidden_above`` and ``search_doc.parent_id`` are copies of the resource's, so
the guard reads the narrow documents alone.

- SQLite: ``search_doc_insert`` and ``search_doc_update`` write them with the rest of the
  document; ``search_doc_update`` fires on the document's source columns again, and a light
  trigger, ``search_doc_scope``, copies ``team_set``, ``hidden_above`` and ``parent_id`` when an
  UPDATE names one of them (a flag refresh down a subtree does not recompute every row's words).
- PostgreSQL: ``cairn_search_doc_sync()`` (statement triggers on every insert and update of
  ``resource``) writes them too.

Existing documents are filled from their resources, and the table's statistics refreshed: without
them PostgreSQL planned the guard's candidates as a probe of the text index per flagged
document (100k resources, editor, "customer": 136 -> 67 ms with them).
"""

from collections.abc import Sequence

from alembic import op

from cairn.store.migrate import earlier_migration

revision: str = "0022_search_doc_ancestry"
down_revision: str | None = "0021_search_doc_team_set"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOC = earlier_migration("0012_search_doc")
_BEFORE = earlier_migration("0021_search_doc_team_set")
COPIED = (*_BEFORE.COPIED, "hidden_above", "parent_id")

ADD_COLUMNS = [
    "ALTER TABLE search_doc ADD COLUMN hidden_above INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE search_doc ADD COLUMN parent_id VARCHAR(36)",
]
BACKFILL = """UPDATE search_doc SET hidden_above = r.hidden_above, parent_id = r.parent_id
    FROM resource AS r WHERE r.pk = search_doc.pk AND (r.hidden_above <> 0 OR r.parent_id IS NOT NULL)"""
DROP_COLUMNS = [
    "ALTER TABLE search_doc DROP COLUMN parent_id",
    "ALTER TABLE search_doc DROP COLUMN hidden_above",
]

_SCOPE = ", ".join(COPIED)

SQLITE_UP = [
    *_BEFORE.SQLITE_DROP,
    *ADD_COLUMNS,
    f"CREATE TRIGGER search_doc_insert AFTER INSERT ON resource BEGIN {_BEFORE.sqlite_body('INSERT', COPIED)} END",
    f"""CREATE TRIGGER search_doc_update AFTER UPDATE OF {_DOC._SOURCE_COLUMNS} ON resource
    BEGIN {_BEFORE.sqlite_body("INSERT OR REPLACE", COPIED)} END""",
    f"""CREATE TRIGGER search_doc_scope AFTER UPDATE OF {_SCOPE} ON resource BEGIN
        UPDATE search_doc SET {", ".join(f"{name} = new.{name}" for name in COPIED)} WHERE pk = new.pk;
    END""",
    BACKFILL,
    "ANALYZE search_doc",
]


def _sqlite_down() -> list[str]:
    # The triggers as 0021_search_doc_team_set made them, from its own text.
    before = [s for s in _BEFORE.SQLITE_UP if s.startswith("CREATE TRIGGER")]
    assert len(before) == 2
    return ["DROP TRIGGER IF EXISTS search_doc_scope", *_BEFORE.SQLITE_DROP, *DROP_COLUMNS, *before]


POSTGRES_UP = [*ADD_COLUMNS, _BEFORE.sync_function(COPIED), BACKFILL, "ANALYZE search_doc"]
POSTGRES_DOWN = [_BEFORE.sync_function(_BEFORE.COPIED), *DROP_COLUMNS]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_context().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = _sqlite_down() if op.get_context().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
