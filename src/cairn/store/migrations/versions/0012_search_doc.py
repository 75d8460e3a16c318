"""search documents: what ranking, visibility and facets read of every full-text match

Revision ID: 0012_search_doc
Revises: 0014_connectors

A common word matches tens of thousands of resources (every ``customer_id`` column), and a
search counts, facets and ranks all of them. Reading the wide ``resource`` row of each match
cost about 3.5 us on SQLite (measured at 100k resources); ``search_doc`` holds only what a
search needs, one narrow row per resource keyed by its pk, so the same pass costs about 0.5 us
per match:

- the columns the visibility rule reads (workspace_id, archived, stale, published; teams are
  read from resource_member by pk), so core/visibility.py applies to it unchanged;
- facet values (entity_type, integration_id, database, schema);
- ``boost``: min(12, 0.75 ln(1 + internal + external usage)) + 4 if verified + 3 if described,
  always less than one ranking tier (20);
- ``title_words`` / ``path_words``: the title and title_full lower-cased, camelCase split and
  every separator a single space, with a space at both ends (so ``instr(title_words, ' dim
  cust')`` is a phrase-prefix test), and ``title_key`` (the words without spaces).

Triggers on ``resource`` keep it, like the text index (0012_search), in the writing transaction.
On SQLite the text index is rebuilt leaner in the same step (see ``_rebuild_fts``).
"""

from collections.abc import Sequence
from string import ascii_uppercase

from alembic import op

revision: str = "0012_search_doc"
down_revision: str | None = "0014_connectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The separators SQLite turns into spaces (PostgreSQL: every non-alphanumeric character).
SEPARATORS = "_.-/:,;()[]{}\"'#@&+=!?*|\t\n"
# SQLite has no regular expressions, so words are made with nested replace() calls, and its
# parser overflows beyond about 25 nested calls in a trigger: the work is split over several
# statements of the trigger body, each nesting at most two subquery layers of 13 calls.
PER_LAYER = 13


def _replaces(expr: str, pairs: Sequence[tuple[str, str]]) -> str:
    for old, new in pairs:
        old_sql = old.replace("'", "''")
        expr = f"replace({expr}, '{old_sql}', '{new}')"
    return expr


def _two_layers(expr: str, pairs: Sequence[tuple[str, str]]) -> str:
    inner = _replaces(expr, pairs[:PER_LAYER])
    return f"(SELECT {_replaces('x', pairs[PER_LAYER:])} FROM (SELECT {inner} AS x))"


def _camel_lower(column: str) -> str:
    value = f"coalesce({column}, '')"
    split = _two_layers(value, [(letter, f" {letter}") for letter in ascii_uppercase])
    return (
        f"lower(CASE WHEN lower({value}) = {value} OR upper({value}) = {value} THEN {value} ELSE {split} END)"
    )


_SEPARATOR_PAIRS = [(sep, " ") for sep in SEPARATORS]
assert len(_SEPARATOR_PAIRS) <= 2 * PER_LAYER


def _spaced(column: str) -> str:
    return _two_layers(column, _SEPARATOR_PAIRS)


def _framed(column: str) -> str:
    return f"' ' || trim({_replaces(column, [('  ', ' ')] * 5)}) || ' '"


_BOOST = (
    "min(12.0, 0.75 * ln(1.0 + {r}.internal_usage + {r}.external_usage))"
    " + CASE WHEN {r}.verified THEN 4.0 ELSE 0.0 END"
    " + CASE WHEN coalesce({r}.description, '') <> '' THEN 3.0 ELSE 0.0 END"
)
_DOC_COLUMNS = (
    "pk, workspace_id, entity_type, published, archived, stale, integration_id, database, schema, "
    "boost, title_key, title_words, path_words"
)
# Columns whose change changes the document.
_SOURCE_COLUMNS = (
    "workspace_id, entity_type, published, archived, stale, integration_id, search_metadata, "
    "internal_usage, external_usage, verified, description, title, title_full"
)

_TABLE = """CREATE TABLE search_doc (
    pk {pk} NOT NULL,
    workspace_id VARCHAR(36) NOT NULL,
    entity_type VARCHAR(32) NOT NULL,
    published BOOLEAN NOT NULL,
    archived BOOLEAN NOT NULL,
    stale BOOLEAN NOT NULL,
    integration_id VARCHAR(36),
    database {text},
    schema {text},
    boost FLOAT NOT NULL,
    title_key {text} NOT NULL,
    title_words {text} NOT NULL,
    path_words {text} NOT NULL,
    CONSTRAINT pk_search_doc PRIMARY KEY (pk),
    CONSTRAINT fk_search_doc_pk_resource FOREIGN KEY (pk) REFERENCES resource (pk) ON DELETE CASCADE
)"""


def _sqlite_body(verb: str) -> str:
    return f"""
        {verb} INTO search_doc ({_DOC_COLUMNS}) VALUES (
            new.pk, new.workspace_id, new.entity_type, new.published, new.archived, new.stale,
            new.integration_id, json_extract(new.search_metadata, '$.database'),
            json_extract(new.search_metadata, '$.schema'), {_BOOST.format(r="new")}, '',
            {_camel_lower("new.title")}, {_camel_lower("new.title_full")});
        UPDATE search_doc SET title_words = {_framed(_spaced("title_words"))},
            path_words = {_framed(_spaced("path_words"))},
            title_key = replace({_spaced("title_words")}, ' ', '')
        WHERE pk = new.pk;
    """


# The text index of 0012_search, rebuilt leaner: phrases and per-row column sizes are no
# longer read (the title and path phrase tests moved to search_doc), so the index keeps which
# column a word is in but not its positions (detail=column), no column sizes (columnsize=0),
# and only two-letter prefixes. The indexed values are the same as before.
_FTS_COLUMNS = "title, title_full, description, definition"
_CHANGED = (
    "old.title IS NOT new.title OR old.title_full IS NOT new.title_full "
    "OR old.description IS NOT new.description OR old.definition IS NOT new.definition"
)
TEXT_LIMIT = 100_000


def _fts_name(column: str) -> str:
    value = f"coalesce({column}, '')"
    split = _two_layers(value, [(letter, f" {letter}") for letter in ascii_uppercase])
    return f"{value} || CASE WHEN lower({value}) = {value} OR upper({value}) = {value} THEN '' ELSE ' ' || {split} END"


def _fts_values(row: str) -> str:
    return (
        f"{row}.pk, {_fts_name(row + '.title')}, {_fts_name(row + '.title_full')}, "
        f"substr({row}.description, 1, {TEXT_LIMIT}), substr({row}.definition, 1, {TEXT_LIMIT})"
    )


_FTS_TRIGGERS = [
    f"""CREATE TRIGGER resource_fts_insert AFTER INSERT ON resource BEGIN
        INSERT INTO resource_fts (rowid, {_FTS_COLUMNS}) VALUES ({_fts_values("new")});
    END""",
    f"""CREATE TRIGGER resource_fts_delete AFTER DELETE ON resource BEGIN
        INSERT INTO resource_fts (resource_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', {_fts_values("old")});
    END""",
    f"""CREATE TRIGGER resource_fts_update
    AFTER UPDATE OF title, title_full, description, definition ON resource
    WHEN {_CHANGED} BEGIN
        INSERT INTO resource_fts (resource_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', {_fts_values("old")});
        INSERT INTO resource_fts (rowid, {_FTS_COLUMNS}) VALUES ({_fts_values("new")});
    END""",
]


def _rebuild_fts(options: str) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS resource_fts_update",
        "DROP TRIGGER IF EXISTS resource_fts_delete",
        "DROP TRIGGER IF EXISTS resource_fts_insert",
        "DROP TABLE IF EXISTS resource_fts",
        f"CREATE VIRTUAL TABLE resource_fts USING fts5({_FTS_COLUMNS}, content='', {options})",
        f"INSERT INTO resource_fts (rowid, {_FTS_COLUMNS}) SELECT {_fts_values('resource')} FROM resource",
        *_FTS_TRIGGERS,
    ]


SQLITE_UP = [
    _TABLE.format(pk="INTEGER", text="VARCHAR"),
    f"CREATE TRIGGER search_doc_insert AFTER INSERT ON resource BEGIN {_sqlite_body('INSERT')} END",
    f"""CREATE TRIGGER search_doc_update AFTER UPDATE OF {_SOURCE_COLUMNS} ON resource
    BEGIN {_sqlite_body("INSERT OR REPLACE")} END""",
    """CREATE TRIGGER search_doc_delete AFTER DELETE ON resource BEGIN
        DELETE FROM search_doc WHERE pk = old.pk;
    END""",
    # The backfill is the update trigger itself; the text index's trigger skips these rows,
    # whose text does not change.
    "UPDATE resource SET title = title",
    *_rebuild_fts("tokenize='unicode61 remove_diacritics 2', detail=column, columnsize=0, prefix='2'"),
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_doc_delete",
    "DROP TRIGGER IF EXISTS search_doc_update",
    "DROP TRIGGER IF EXISTS search_doc_insert",
    "DROP TABLE IF EXISTS search_doc",
    *_rebuild_fts("tokenize='unicode61 remove_diacritics 2', prefix='2 3'"),
]

_PG_BOOST = _BOOST.replace("min(", "least(")

POSTGRES_UP = [
    r"""CREATE FUNCTION cairn_search_doc_words(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT ' ' || trim(regexp_replace(lower(CASE
            WHEN lower(coalesce(value, '')) = coalesce(value, '')
              OR upper(coalesce(value, '')) = coalesce(value, '') THEN coalesce(value, '')
            ELSE regexp_replace(value, '([[:upper:]])', ' \1', 'g')
        END), '[^[:alnum:]]+', ' ', 'g')) || ' '
    $$""",
    _TABLE.format(pk="BIGINT", text='VARCHAR COLLATE "C"'),
    f"""CREATE FUNCTION cairn_search_doc_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO search_doc ({_DOC_COLUMNS})
        SELECT r.pk, r.workspace_id, r.entity_type, r.published, r.archived, r.stale, r.integration_id,
            r.search_metadata ->> 'database', r.search_metadata ->> 'schema', {_PG_BOOST.format(r="r")},
            replace(w.words, ' ', ''), w.words, cairn_search_doc_words(r.title_full)
        FROM changed_rows AS r, LATERAL (SELECT cairn_search_doc_words(r.title) AS words) AS w
        ON CONFLICT (pk) DO UPDATE SET
            workspace_id = EXCLUDED.workspace_id, entity_type = EXCLUDED.entity_type,
            published = EXCLUDED.published, archived = EXCLUDED.archived, stale = EXCLUDED.stale,
            integration_id = EXCLUDED.integration_id, database = EXCLUDED.database,
            schema = EXCLUDED.schema, boost = EXCLUDED.boost, title_key = EXCLUDED.title_key,
            title_words = EXCLUDED.title_words, path_words = EXCLUDED.path_words;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER search_doc_insert AFTER INSERT ON resource
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_search_doc_sync()""",
    # Transition tables cannot be combined with a column list, so updates use them without one.
    """CREATE TRIGGER search_doc_update AFTER UPDATE ON resource
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_search_doc_sync()""",
    f"""INSERT INTO search_doc ({_DOC_COLUMNS})
    SELECT r.pk, r.workspace_id, r.entity_type, r.published, r.archived, r.stale, r.integration_id,
        r.search_metadata ->> 'database', r.search_metadata ->> 'schema', {_PG_BOOST.format(r="r")},
        replace(w.words, ' ', ''), w.words, cairn_search_doc_words(r.title_full)
    FROM resource AS r, LATERAL (SELECT cairn_search_doc_words(r.title) AS words) AS w""",
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS search_doc_update ON resource",
    "DROP TRIGGER IF EXISTS search_doc_insert ON resource",
    "DROP FUNCTION IF EXISTS cairn_search_doc_sync()",
    "DROP TABLE IF EXISTS search_doc",
    "DROP FUNCTION IF EXISTS cairn_search_doc_words(text)",
]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_context().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_context().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
