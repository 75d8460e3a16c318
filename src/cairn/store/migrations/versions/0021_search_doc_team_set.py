"""search documents carry their resource's team set, so a search tests teams without a lookup

Revision ID: 0021_search_doc_team_set
Revises: 0021_entity_titles

The visibility rule tests a row's ``team_set`` (0017_trust_team_sets). ``search_doc`` had no
such column, so for every match of an editor's, viewer's or guest's search the rule looked the
number up in ``resource`` by pk (a subquery per match: +50-110% CPU over an admin's search at
1M resources, bench/README.md). ``search_doc.team_set`` is now written by the same triggers as
the rest of the document, in the writing transaction:

- SQLite: ``search_doc_insert`` and ``search_doc_update`` as 0012_search_doc made them, with
  ``team_set`` among the written columns, and the update trigger firing on ``team_set`` too;
- PostgreSQL: ``cairn_search_doc_sync()`` (statement triggers on every insert and update of
  ``resource``) writes it too.

Existing documents are filled from their resources (only rows with teams: the column's default
is 0, no teams).
"""

from collections.abc import Sequence

from alembic import op

from cairn.store.migrate import earlier_migration

revision: str = "0021_search_doc_team_set"
down_revision: str | None = "0021_entity_titles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_DOC = earlier_migration("0012_search_doc")
# The columns copied from the resource row as they are (a later migration adds to them).
COPIED = ("team_set",)

ADD_COLUMN = "ALTER TABLE search_doc ADD COLUMN team_set INTEGER NOT NULL DEFAULT 0"
BACKFILL = """UPDATE search_doc SET team_set = r.team_set FROM resource AS r
    WHERE r.pk = search_doc.pk AND r.team_set <> 0"""


def sqlite_body(verb: str, copied: Sequence[str]) -> str:
    """0012_search_doc's trigger body, writing the ``copied`` columns of ``new`` too."""
    columns = ", ".join([_DOC._DOC_COLUMNS, *copied])
    values = "".join(f", new.{name}" for name in copied)
    return f"""
        {verb} INTO search_doc ({columns}) VALUES (
            new.pk, new.workspace_id, new.entity_type, new.published, new.archived, new.stale,
            new.integration_id, json_extract(new.search_metadata, '$.database'),
            json_extract(new.search_metadata, '$.schema'), {_DOC._BOOST.format(r="new")}, '',
            {_DOC._camel_lower("new.title")}, {_DOC._camel_lower("new.title_full")}{values});
        UPDATE search_doc SET title_words = {_DOC._framed(_DOC._spaced("title_words"))},
            path_words = {_DOC._framed(_DOC._spaced("path_words"))},
            title_key = replace({_DOC._spaced("title_words")}, ' ', '')
        WHERE pk = new.pk;
    """


SQLITE_DROP = ["DROP TRIGGER IF EXISTS search_doc_update", "DROP TRIGGER IF EXISTS search_doc_insert"]

SQLITE_UP = [
    *SQLITE_DROP,
    ADD_COLUMN,
    f"CREATE TRIGGER search_doc_insert AFTER INSERT ON resource BEGIN {sqlite_body('INSERT', COPIED)} END",
    f"""CREATE TRIGGER search_doc_update AFTER UPDATE OF {_DOC._SOURCE_COLUMNS}, team_set ON resource
    BEGIN {sqlite_body("INSERT OR REPLACE", COPIED)} END""",
    BACKFILL,
]


def _sqlite_down() -> list[str]:
    # The triggers as 0012_search_doc made them, from its own text.
    first = [
        s
        for s in _DOC.SQLITE_UP
        if s.startswith(("CREATE TRIGGER search_doc_insert", "CREATE TRIGGER search_doc_update"))
    ]
    assert len(first) == 2
    return [*SQLITE_DROP, "ALTER TABLE search_doc DROP COLUMN team_set", *first]


def sync_function(copied: Sequence[str]) -> str:
    """0012_search_doc's ``cairn_search_doc_sync()``, writing the ``copied`` columns too."""
    columns = ", ".join([_DOC._DOC_COLUMNS, *copied])
    values = "".join(f", r.{name}" for name in copied)
    updates = "".join(f", {name} = EXCLUDED.{name}" for name in copied)
    return f"""CREATE OR REPLACE FUNCTION cairn_search_doc_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_doc ({columns})
        SELECT r.pk, r.workspace_id, r.entity_type, r.published, r.archived, r.stale, r.integration_id,
            r.search_metadata ->> 'database', r.search_metadata ->> 'schema', {_DOC._PG_BOOST.format(r="r")},
            replace(w.words, ' ', ''), w.words, cairn_search_doc_words(r.title_full){values}
        FROM changed_rows AS r, LATERAL (SELECT cairn_search_doc_words(r.title) AS words) AS w
        ON CONFLICT (pk) DO UPDATE SET
            workspace_id = EXCLUDED.workspace_id, entity_type = EXCLUDED.entity_type,
            published = EXCLUDED.published, archived = EXCLUDED.archived, stale = EXCLUDED.stale,
            integration_id = EXCLUDED.integration_id, database = EXCLUDED.database,
            schema = EXCLUDED.schema, boost = EXCLUDED.boost, title_key = EXCLUDED.title_key,
            title_words = EXCLUDED.title_words, path_words = EXCLUDED.path_words{updates};
        RETURN NULL;
    END $$"""


POSTGRES_UP = [
    ADD_COLUMN,
    sync_function(COPIED),
    BACKFILL,
]


def _postgres_down() -> list[str]:
    # The function as 0012_search_doc made it, from its own text.
    (function,) = [s for s in _DOC.POSTGRES_UP if s.startswith("CREATE FUNCTION cairn_search_doc_sync()")]
    return [
        function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
        "ALTER TABLE search_doc DROP COLUMN team_set",
    ]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_context().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = _sqlite_down() if op.get_context().dialect.name == "sqlite" else _postgres_down()
    for statement in statements:
        op.execute(statement)
