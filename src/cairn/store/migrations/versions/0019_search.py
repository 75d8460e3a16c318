"""a text index lane without columns, so common words do not visit every column that holds them

Revision ID: 0019_search
Revises: 0019_import

At 1M resources a common word ("customer") matches ~94,000 resources, ~90% of them columns
(``customer_id``), and columns always rank in the lowest band. Counting, faceting and ranking
every match cost 50+ ms whatever the SQL (bench/README.md, "Search at 1,000,000 resources"). So
the non-columns get an index lane of their own: a page of tables, dashboards or terms and their
facets are read from it alone, and the columns are only counted, up to a bound.

- SQLite: ``resource_fts_entities``, a second contentless FTS5 table with the same options and
  the same indexed values as ``resource_fts`` (0012_search_doc), holding only the resources that
  are not columns; kept by triggers on ``resource`` with ``WHEN ... <> 'column'``, in the writing
  transaction like the first lane. ``resource_fts`` keeps every resource.
- PostgreSQL: ``resource_search.is_column`` and a partial GIN index over the other rows; the
  triggers of 0012_search set the flag.
- Both: ``ix_search_doc_title_key`` lists the columns titled exactly like a query (``customer_id``
  for "customer id", the top tier of the column band) best boost first, so a page of columns is
  found without ranking the tens of thousands of other column matches.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0019_search"
down_revision: str | None = "0019_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _migration(name: str) -> ModuleType:
    """An earlier migration's module: the indexed values must be exactly the first lane's, and a
    migration's text never changes once released."""
    spec = importlib.util.spec_from_file_location(
        f"cairn_migration_{name}", Path(__file__).parent / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_DOC = _migration("0012_search_doc")
_COLUMNS = _DOC._FTS_COLUMNS
LANE = "resource_fts_entities"
# Options of resource_fts as 0012_search_doc rebuilt it.
_OPTIONS = "tokenize='unicode61 remove_diacritics 2', detail=column, columnsize=0, prefix='2'"


def _sqlite_up() -> list[str]:
    new, old = _DOC._fts_values("new"), _DOC._fts_values("old")
    return [
        f"CREATE VIRTUAL TABLE {LANE} USING fts5({_COLUMNS}, content='', {_OPTIONS})",
        f"INSERT INTO {LANE} (rowid, {_COLUMNS}) SELECT {_DOC._fts_values('resource')} FROM resource "
        "WHERE entity_type <> 'column'",
        f"""CREATE TRIGGER {LANE}_insert AFTER INSERT ON resource WHEN new.entity_type <> 'column' BEGIN
        INSERT INTO {LANE} (rowid, {_COLUMNS}) VALUES ({new});
    END""",
        f"""CREATE TRIGGER {LANE}_delete AFTER DELETE ON resource WHEN old.entity_type <> 'column' BEGIN
        INSERT INTO {LANE} ({LANE}, rowid, {_COLUMNS}) VALUES ('delete', {old});
    END""",
        # A contentless FTS5 row is deleted by repeating its indexed values, so the old row
        # leaves the lane only if it was in it, and the new one enters only if it belongs.
        f"""CREATE TRIGGER {LANE}_update
    AFTER UPDATE OF entity_type, title, title_full, description, definition ON resource
    WHEN old.entity_type IS NOT new.entity_type OR {_DOC._CHANGED} BEGIN
        INSERT INTO {LANE} ({LANE}, rowid, {_COLUMNS}) SELECT 'delete', {old}
        WHERE old.entity_type <> 'column';
        INSERT INTO {LANE} (rowid, {_COLUMNS}) SELECT {new} WHERE new.entity_type <> 'column';
    END""",
    ]


SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {LANE}_update",
    f"DROP TRIGGER IF EXISTS {LANE}_delete",
    f"DROP TRIGGER IF EXISTS {LANE}_insert",
    f"DROP TABLE IF EXISTS {LANE}",
]

_TEXT_CHANGED = """OLD.title IS DISTINCT FROM NEW.title OR OLD.title_full IS DISTINCT FROM NEW.title_full
        OR OLD.description IS DISTINCT FROM NEW.description
        OR OLD.definition IS DISTINCT FROM NEW.definition"""

POSTGRES_UP = [
    "ALTER TABLE resource_search ADD COLUMN is_column BOOLEAN NOT NULL DEFAULT false",
    """UPDATE resource_search AS s SET is_column = true FROM resource AS r
    WHERE r.pk = s.resource_pk AND r.entity_type = 'column'""",
    "CREATE INDEX ix_resource_search_entities ON resource_search USING gin (vector) "
    "WITH (gin_pending_list_limit = 256) WHERE NOT is_column",
    """CREATE OR REPLACE FUNCTION cairn_resource_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO resource_search (resource_pk, vector, is_column)
        SELECT pk, cairn_search_vector(title, title_full, description, definition), entity_type = 'column'
        FROM inserted_rows;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION cairn_resource_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE resource_search
        SET vector = cairn_search_vector(NEW.title, NEW.title_full, NEW.description, NEW.definition),
            is_column = NEW.entity_type = 'column'
        WHERE resource_pk = NEW.pk;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER resource_search_update ON resource",
    f"""CREATE TRIGGER resource_search_update
    AFTER UPDATE OF entity_type, title, title_full, description, definition ON resource
    FOR EACH ROW WHEN (OLD.entity_type IS DISTINCT FROM NEW.entity_type OR {_TEXT_CHANGED})
    EXECUTE FUNCTION cairn_resource_search_updated()""",
]


def _postgres_down() -> list[str]:
    # The trigger and functions as 0012_search made them, from its own text.
    first = _migration("0012_search").POSTGRES_UP
    inserted, updated, trigger = (
        next(s for s in first if s.startswith(f"CREATE {kind} {name}"))
        for kind, name in (
            ("FUNCTION", "cairn_resource_search_inserted"),
            ("FUNCTION", "cairn_resource_search_updated"),
            ("TRIGGER", "resource_search_update"),
        )
    )
    return [
        "DROP TRIGGER resource_search_update ON resource",
        trigger,
        updated.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
        inserted.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
        "DROP INDEX IF EXISTS ix_resource_search_entities",
        "ALTER TABLE resource_search DROP COLUMN is_column",
    ]


# Both backends: the columns titled exactly like a query, best boost first, without a sort.
TITLE_KEY_INDEX = (
    "CREATE INDEX ix_search_doc_title_key ON search_doc (title_key, entity_type, boost DESC, pk)"
)


def upgrade() -> None:
    statements = _sqlite_up() if op.get_context().dialect.name == "sqlite" else POSTGRES_UP
    for statement in [*statements, TITLE_KEY_INDEX]:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_context().dialect.name == "sqlite" else _postgres_down()
    for statement in ["DROP INDEX ix_search_doc_title_key", *statements]:
        op.execute(statement)
