"""full-text search index over resources, kept by database triggers

Revision ID: 0012_search
Revises: 0011_lineage

Every write path (API, bulk update, import, connectors, raw SQL) changes ``resource`` rows, so
the index follows from triggers on that table: nothing in Python can forget it, and it commits
or rolls back with the write.

What is indexed per resource: the title and title_full (the dotted path), with camelCase words
also split (``dimCustomer`` yields ``dimcustomer``, ``dim`` and ``customer``), the description
and the definition.
Both backends tokenize on every non-alphanumeric character, so ``dim_customer`` and
``analytics.dim_customer`` yield ``customer``.

- SQLite: a contentless FTS5 table ``resource_fts`` (rowid = resource.pk). Contentless keeps the
  file small; deleting a row from it needs the indexed values, which the triggers recompute from
  OLD with the same deterministic expressions.
- PostgreSQL: ``resource_search`` (resource_pk, tsvector with weights A title, B title_full,
  C description, D definition) with a GIN index; a statement-level trigger indexes inserted rows
  in one set-based statement, a row trigger re-indexes rows whose text changed, and the foreign
  key's ON DELETE CASCADE removes deleted ones. pg_trgm already exists (0008_list_indexes).

Descriptions and definitions are indexed up to their first 100,000 characters: a PostgreSQL
tsvector is limited to 1 MB, and an insert must never fail because a text is long.
"""

from collections.abc import Sequence
from string import ascii_uppercase

from alembic import op

revision: str = "0012_search"
down_revision: str | None = "0011_lineage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_LIMIT = 100_000


def _spaced(expr: str, letters: str) -> str:
    for letter in letters:
        expr = f"replace({expr}, '{letter}', ' {letter}')"
    return expr


def _sqlite_camel_split(expr: str) -> str:
    # SQLite has no regular expressions: a space before every capital letter does the split.
    # Two subquery layers of 13 calls each, since 26 nested calls overflow SQLite's parser stack.
    half = len(ascii_uppercase) // 2
    inner = _spaced(expr, ascii_uppercase[:half])
    return f"(SELECT {_spaced('x', ascii_uppercase[half:])} FROM (SELECT {inner} AS x))"


def _sqlite_name(column: str) -> str:
    value = f"coalesce({column}, '')"
    # Only mixed-case names get the split words; all-lower or all-upper ones have none to add.
    return (
        f"{value} || CASE WHEN lower({value}) = {value} OR upper({value}) = {value} "
        f"THEN '' ELSE ' ' || {_sqlite_camel_split(value)} END"
    )


def _sqlite_values(row: str) -> str:
    return (
        f"{row}.pk, {_sqlite_name(row + '.title')}, {_sqlite_name(row + '.title_full')}, "
        f"substr({row}.description, 1, {TEXT_LIMIT}), substr({row}.definition, 1, {TEXT_LIMIT})"
    )


_FTS_COLUMNS = "title, title_full, description, definition"
_CHANGED = (
    "old.title IS NOT new.title OR old.title_full IS NOT new.title_full "
    "OR old.description IS NOT new.description OR old.definition IS NOT new.definition"
)

SQLITE_UP = [
    f"CREATE VIRTUAL TABLE resource_fts USING fts5({_FTS_COLUMNS}, content='', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    f"INSERT INTO resource_fts (rowid, {_FTS_COLUMNS}) SELECT {_sqlite_values('resource')} FROM resource",
    f"""CREATE TRIGGER resource_fts_insert AFTER INSERT ON resource BEGIN
        INSERT INTO resource_fts (rowid, {_FTS_COLUMNS}) VALUES ({_sqlite_values("new")});
    END""",
    f"""CREATE TRIGGER resource_fts_delete AFTER DELETE ON resource BEGIN
        INSERT INTO resource_fts (resource_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', {_sqlite_values("old")});
    END""",
    f"""CREATE TRIGGER resource_fts_update
    AFTER UPDATE OF title, title_full, description, definition ON resource
    WHEN {_CHANGED} BEGIN
        INSERT INTO resource_fts (resource_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', {_sqlite_values("old")});
        INSERT INTO resource_fts (rowid, {_FTS_COLUMNS}) VALUES ({_sqlite_values("new")});
    END""",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS resource_fts_update",
    "DROP TRIGGER IF EXISTS resource_fts_delete",
    "DROP TRIGGER IF EXISTS resource_fts_insert",
    "DROP TABLE IF EXISTS resource_fts",
]

POSTGRES_UP = [
    # Separators become spaces before PostgreSQL's parser sees the text: it would otherwise read
    # ``analytics.dim_customer`` as one host name token.
    r"""CREATE FUNCTION cairn_search_words(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT regexp_replace(coalesce(value, ''), '[^[:alnum:]]+', ' ', 'g')
    $$""",
    r"""CREATE FUNCTION cairn_search_name(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT cairn_search_words(value) || CASE
            WHEN lower(coalesce(value, '')) = coalesce(value, '')
              OR upper(coalesce(value, '')) = coalesce(value, '') THEN ''
            ELSE ' ' || cairn_search_words(regexp_replace(value, '([[:upper:]])', ' \1', 'g'))
        END
    $$""",
    f"""CREATE FUNCTION cairn_search_vector(title text, title_full text, description text, definition text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight(to_tsvector('simple', cairn_search_name(title)), 'A')
            || setweight(to_tsvector('simple', cairn_search_name(title_full)), 'B')
            || setweight(to_tsvector('simple', cairn_search_words(left(description, {TEXT_LIMIT}))), 'C')
            || setweight(to_tsvector('simple', cairn_search_words(left(definition, {TEXT_LIMIT}))), 'D')
    $$""",
    """CREATE TABLE resource_search (
        resource_pk BIGINT NOT NULL,
        vector TSVECTOR NOT NULL,
        CONSTRAINT pk_resource_search PRIMARY KEY (resource_pk),
        CONSTRAINT fk_resource_search_resource_pk_resource FOREIGN KEY (resource_pk)
            REFERENCES resource (pk) ON DELETE CASCADE
    )""",
    """INSERT INTO resource_search (resource_pk, vector)
    SELECT pk, cairn_search_vector(title, title_full, description, definition) FROM resource""",
    "CREATE INDEX ix_resource_search_vector ON resource_search USING gin (vector)",
    """CREATE FUNCTION cairn_resource_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO resource_search (resource_pk, vector)
        SELECT pk, cairn_search_vector(title, title_full, description, definition) FROM inserted_rows;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER resource_search_insert AFTER INSERT ON resource
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_resource_search_inserted()""",
    """CREATE FUNCTION cairn_resource_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE resource_search
        SET vector = cairn_search_vector(NEW.title, NEW.title_full, NEW.description, NEW.definition)
        WHERE resource_pk = NEW.pk;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER resource_search_update
    AFTER UPDATE OF title, title_full, description, definition ON resource
    FOR EACH ROW WHEN (
        OLD.title IS DISTINCT FROM NEW.title OR OLD.title_full IS DISTINCT FROM NEW.title_full
        OR OLD.description IS DISTINCT FROM NEW.description
        OR OLD.definition IS DISTINCT FROM NEW.definition
    ) EXECUTE FUNCTION cairn_resource_search_updated()""",
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS resource_search_update ON resource",
    "DROP TRIGGER IF EXISTS resource_search_insert ON resource",
    "DROP FUNCTION IF EXISTS cairn_resource_search_updated()",
    "DROP FUNCTION IF EXISTS cairn_resource_search_inserted()",
    "DROP TABLE IF EXISTS resource_search",
    "DROP FUNCTION IF EXISTS cairn_search_vector(text, text, text, text)",
    "DROP FUNCTION IF EXISTS cairn_search_name(text)",
    "DROP FUNCTION IF EXISTS cairn_search_words(text)",
]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_context().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_context().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
