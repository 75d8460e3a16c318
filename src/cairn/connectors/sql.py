"""Crawl a SQL database (PostgreSQL, MySQL/MariaDB, SQLite, DuckDB) into the catalog.

Reading uses SQLAlchemy's batch reflection (``get_multi_columns`` and friends: one query per
schema on PostgreSQL instead of one per table) plus the engine's own statistics views for row
counts, sizes and change times. DuckDB is read from its ``duckdb_*`` catalog functions, because
duckdb-engine's reflection queries PostgreSQL catalog tables DuckDB does not have.

Each schema is read and written on its own: a schema that cannot be read (permissions, a driver
error) is reported and the others still land, and is left out of the staleness pass so that its
tables are not marked stale for a failure that is not theirs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from cairn.connectors.merge import Merger, ensure_integration, replace_lineage
from cairn.connectors.model import Node, Summary, key_parts, path_key
from cairn.core.errors import InvalidInput
from cairn.core.extractions import records_extraction
from cairn.core.principal import Principal
from cairn.core.sql_lineage import DIALECTS, TableRef, query_lineage
from cairn.store import Store

SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
)
SUPPORTED = ("postgresql", "mysql", "mariadb", "sqlite", "duckdb")
CONNECT_TIMEOUT = 10
Progress = Callable[[str, int, int], None]


# ---- what a schema holds -------------------------------------------------------------------


@dataclass
class ColumnInfo:
    name: str
    native_type: str
    data_type: str
    nullable: bool
    comment: str | None
    position: int


@dataclass
class TableInfo:
    name: str
    kind: str  # "table", "view", "materialized view"
    comment: str | None = None
    columns: list[ColumnInfo] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    row_count: int | None = None
    byte_size: int | None = None
    updated_at: datetime | None = None
    view_sql: str | None = None


# ---- URLs and credentials --------------------------------------------------------------------


def mask(url: str | URL) -> str:
    """The URL as it may be shown or stored: the password replaced by ``***``."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparsable URL>"
    return parsed.render_as_string(hide_password=True)


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message (without SQLAlchemy's SQL echo and background link)."""
    return str(getattr(exc, "orig", None) or exc)


def _scrub(message: str, url: URL) -> str:
    if url.password:
        message = message.replace(str(url.password), "***")
    return message.splitlines()[0] if message else message


@dataclass(frozen=True)
class SqlSource:
    url: URL
    backend: str
    database: str  # the catalog's database title

    @property
    def masked(self) -> str:
        return mask(self.url)

    def default_integration(self) -> str:
        if self.backend in ("sqlite", "duckdb"):
            return f"{self.backend}:{self.database}"
        return f"{self.backend}:{self.url.host or 'localhost'}/{self.database}"


def parse_source(raw: str) -> SqlSource:
    """Check a source URL and pick drivers; every problem is a 400 naming ``url``."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise InvalidInput(f"not a database URL: {exc}", field="url") from exc
    backend = url.get_backend_name()
    if backend == "mariadb":
        backend = "mysql"
    if backend not in SUPPORTED:
        raise InvalidInput(
            f"unsupported database '{backend}': use postgresql, mysql, mariadb, sqlite or duckdb", field="url"
        )
    if backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
        database = url.database or "postgres"
    elif backend == "mysql":
        url = url.set(drivername="mysql+pymysql")
        database = url.host or "mysql"
    else:
        path = url.database or ""
        if not path or path == ":memory:" or not Path(path).is_file():
            raise InvalidInput(f"no {backend} database file at '{path}'", field="url")
        database = Path(path).stem
    return SqlSource(url=url, backend=backend, database=database)


def _engine(source: SqlSource) -> Engine:
    url = source.url
    args: dict[str, Any] = {}
    if source.backend == "postgresql" or source.backend == "mysql":
        args = {"connect_timeout": CONNECT_TIMEOUT}
    elif source.backend == "sqlite":
        # Read-only: crawling a file must never create or change it.
        path = Path(url.database or "").resolve()
        url = make_url(f"sqlite:///file:{path}?mode=ro&uri=true")
    elif source.backend == "duckdb":
        args = {"read_only": True}
    try:
        return create_engine(url, poolclass=NullPool, connect_args=args)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise InvalidInput(f"cannot use {source.masked}: {exc}", field="url") from exc


# ---- types -----------------------------------------------------------------------------------

_DATA_TYPES: tuple[tuple[type[Any], str], ...] = (
    (sqltypes.Boolean, "boolean"),
    (sqltypes.Integer, "integer"),
    (sqltypes.Float, "float"),
    (sqltypes.Numeric, "decimal"),
    (sqltypes.DateTime, "timestamp"),
    (sqltypes.Date, "date"),
    (sqltypes.Time, "time"),
    (sqltypes.Interval, "interval"),
    (sqltypes.Enum, "string"),
    (sqltypes.String, "string"),
    (sqltypes._Binary, "binary"),
    (sqltypes.JSON, "json"),
    (sqltypes.ARRAY, "array"),
    (sqltypes.Uuid, "uuid"),
)


def data_type(kind: Any) -> str:
    """A portable type family for a reflected SQLAlchemy type (the engine's own name is native_type)."""
    for cls, name in _DATA_TYPES:
        if isinstance(kind, cls):
            return name
    return "other"


def _native(kind: Any, conn: Connection) -> str:
    try:
        return str(kind.compile(dialect=conn.dialect))
    except Exception:  # some reflected types (NullType, vendor types) cannot compile
        return str(getattr(kind, "__visit_name__", type(kind).__name__))


_DUCKDB_FAMILIES = (
    ("BOOL", "boolean"),
    ("INT", "integer"),
    ("HUGEINT", "integer"),
    ("DECIMAL", "decimal"),
    ("DOUBLE", "float"),
    ("FLOAT", "float"),
    ("REAL", "float"),
    ("TIMESTAMP", "timestamp"),
    ("DATE", "date"),
    ("TIME", "time"),
    ("INTERVAL", "interval"),
    ("VARCHAR", "string"),
    ("BLOB", "binary"),
    ("JSON", "json"),
    ("UUID", "uuid"),
)


def _duckdb_family(native: str) -> str:
    upper = native.upper()
    if upper.endswith("[]"):
        return "array"
    for prefix, name in _DUCKDB_FAMILIES:
        if upper.startswith(prefix) or (prefix == "INT" and upper.endswith("INT")):
            return name
    return "other"


# ---- readers -----------------------------------------------------------------------------------


def list_schemas(conn: Connection, source: SqlSource) -> list[str]:
    if source.backend == "duckdb":
        rows = conn.execute(
            text(
                # ``main`` is flagged internal in DuckDB, so the system schemas are named instead.
                "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database() "
                "AND schema_name NOT IN ('information_schema', 'pg_catalog') ORDER BY schema_name"
            )
        )
        return [r[0] for r in rows]
    names = inspect(conn).get_schema_names()
    return [n for n in names if n not in SYSTEM_SCHEMAS and not n.startswith("pg_temp")]


def read_schema(conn: Connection, source: SqlSource, schema: str) -> list[TableInfo]:
    if source.backend == "duckdb":
        return _read_duckdb(conn, schema)
    return _read_reflected(conn, source, schema)


def _optional(call: Callable[[], Any], default: Any) -> Any:
    try:
        return call()
    except NotImplementedError:
        return default


def _read_reflected(conn: Connection, source: SqlSource, schema: str) -> list[TableInfo]:
    insp = inspect(conn)
    tables: dict[str, TableInfo] = {n: TableInfo(n, "table") for n in insp.get_table_names(schema)}
    for name in insp.get_view_names(schema):
        tables[name] = TableInfo(name, "view")
    for name in _optional(lambda: insp.get_materialized_view_names(schema), []):
        tables[name] = TableInfo(name, "materialized view")
    if not tables:
        return []
    columns = insp.get_multi_columns(schema=schema, kind=ObjectKind.ANY)
    pks = insp.get_multi_pk_constraint(schema=schema)
    fks = insp.get_multi_foreign_keys(schema=schema)
    comments = _optional(lambda: insp.get_multi_table_comment(schema=schema, kind=ObjectKind.ANY), {})
    for (_, name), cols in columns.items():
        info = tables.get(name)
        if info is None:
            continue
        info.columns = [
            ColumnInfo(
                name=c["name"],
                native_type=_native(c["type"], conn),
                data_type=data_type(c["type"]),
                nullable=bool(c.get("nullable", True)),
                comment=c.get("comment") or None,
                position=i + 1,
            )
            for i, c in enumerate(cols)
        ]
    for (_, name), pk in pks.items():
        if name in tables:
            tables[name].primary_key = list(pk.get("constrained_columns") or [])
    for (_, name), keys in fks.items():
        if name in tables:
            tables[name].foreign_keys = [
                {
                    "columns": list(k["constrained_columns"]),
                    "referred_schema": k.get("referred_schema") or schema,
                    "referred_table": k["referred_table"],
                    "referred_columns": list(k["referred_columns"]),
                }
                for k in keys
            ]
    for (_, name), comment in comments.items():
        if name in tables:
            tables[name].comment = (comment or {}).get("text") or None
    for info in tables.values():
        if info.kind != "table":
            info.view_sql = insp.get_view_definition(info.name, schema) or None
    _statistics(conn, source, schema, tables)
    return [tables[n] for n in sorted(tables)]


def _statistics(conn: Connection, source: SqlSource, schema: str, tables: dict[str, TableInfo]) -> None:
    if source.backend == "sqlite":
        _sqlite_statistics(conn, schema, tables)
    elif source.backend == "postgresql":
        rows = conn.execute(
            text(
                "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'm')"
            ),
            {"schema": schema},
        )
        for name, tuples, size in rows:
            if name in tables:
                # reltuples is -1 until the table is first analyzed: unknown, not empty.
                tables[name].row_count = int(tuples) if tuples is not None and tuples >= 0 else None
                tables[name].byte_size = int(size) if size is not None else None
    elif source.backend == "mysql":
        offset = conn.execute(text("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH, "
                "GREATEST(COALESCE(UPDATE_TIME, CREATE_TIME), CREATE_TIME) "
                "FROM information_schema.TABLES WHERE TABLE_SCHEMA = :schema"
            ),
            {"schema": schema},
        )
        for name, kind, count, size, changed in rows:
            info = tables.get(name)
            if info is None or kind == "VIEW":
                continue
            info.row_count = int(count) if count is not None else None
            info.byte_size = int(size) if size is not None else None
            if changed is not None:
                # information_schema times are in the server's zone.
                info.updated_at = (changed - timedelta(seconds=int(offset))).replace(tzinfo=UTC)


def _sqlite_statistics(conn: Connection, schema: str, tables: dict[str, TableInfo]) -> None:
    """Row counts from ``sqlite_stat1`` (present once the file was ANALYZEd) and sizes from the
    ``dbstat`` table (when SQLite was built with it); either may be missing, which is no error."""
    quoted = '"' + schema.replace('"', '""') + '"'
    try:
        for name, stat in conn.execute(text(f"SELECT tbl, stat FROM {quoted}.sqlite_stat1")):
            info = tables.get(name)
            head = str(stat or "").split(" ", 1)[0]
            if info is not None and head.isdigit():
                info.row_count = int(head)
    except OperationalError:
        pass
    try:
        rows = conn.execute(
            text(
                f"SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat(:schema) d "
                f"JOIN {quoted}.sqlite_master m ON m.name = d.name GROUP BY m.tbl_name"
            ),
            {"schema": schema},
        )
        for name, size in rows:
            if name in tables and tables[name].kind == "table":
                tables[name].byte_size = int(size)
    except OperationalError:
        pass


def _read_duckdb(conn: Connection, schema: str) -> list[TableInfo]:
    params = {"schema": schema}
    where = "WHERE database_name = current_database() AND schema_name = :schema"
    tables: dict[str, TableInfo] = {}
    for name, comment, rows, size in conn.execute(
        text(f"SELECT table_name, comment, estimated_size, NULL FROM duckdb_tables() {where}"), params
    ):
        tables[name] = TableInfo(name, "table", comment=comment or None, row_count=rows, byte_size=size)
    for name, comment, sql in conn.execute(
        text(f"SELECT view_name, comment, sql FROM duckdb_views() {where} AND NOT internal"), params
    ):
        tables[name] = TableInfo(name, "view", comment=comment or None, view_sql=sql)
    for table, name, native, nullable, comment, position in conn.execute(
        text(
            "SELECT table_name, column_name, data_type, is_nullable, comment, column_index "
            f"FROM duckdb_columns() {where} ORDER BY table_name, column_index"
        ),
        params,
    ):
        if table in tables:
            tables[table].columns.append(
                ColumnInfo(
                    name, native, _duckdb_family(native), bool(nullable), comment or None, int(position)
                )
            )
    for table, kind, cols, ref_table, ref_cols in conn.execute(
        text(
            "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
            f"referenced_column_names FROM duckdb_constraints() {where} "
            "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
        ),
        params,
    ):
        info = tables.get(table)
        if info is None:
            continue
        if kind == "PRIMARY KEY":
            info.primary_key = list(cols)
        else:
            info.foreign_keys.append(
                {
                    "columns": list(cols),
                    "referred_schema": schema,
                    "referred_table": ref_table,
                    "referred_columns": list(ref_cols),
                }
            )
    return [tables[n] for n in sorted(tables)]


# ---- nodes -----------------------------------------------------------------------------------------


def schema_nodes(integration: str, database: str, schema: str, tables: Sequence[TableInfo]) -> list[Node]:
    schema_key = path_key(integration, database, schema)
    nodes = [Node(schema_key, "schema", schema, parent=path_key(integration, database))]
    for table in tables:
        table_key = path_key(integration, database, schema, table.name)
        details: dict[str, Any] = {}
        if table.primary_key:
            details["primary_key"] = table.primary_key
        if table.foreign_keys:
            details["foreign_keys"] = table.foreign_keys
        if table.view_sql:
            details["view_definition"] = table.view_sql
        nodes.append(
            Node(
                table_key,
                "table",
                table.name,
                parent=schema_key,
                fields={
                    "native_type": table.kind,
                    "description": table.comment,
                    "row_count": table.row_count,
                    "byte_size": table.byte_size,
                    "external_updated_at": table.updated_at,
                },
                details=details,
            )
        )
        references = {
            col: f"{fk['referred_schema']}.{fk['referred_table']}.{ref}"
            for fk in table.foreign_keys
            for col, ref in zip(fk["columns"], fk["referred_columns"], strict=False)
        }
        for column in table.columns:
            column_details: dict[str, Any] = {
                "type": column.data_type,
                "sort_order": column.position,
                "is_pk": column.name in table.primary_key,
                "is_nullable": column.nullable,
            }
            if column.name in references:
                column_details["foreign_key"] = references[column.name]
            nodes.append(
                Node(
                    path_key(integration, database, schema, table.name, column.name),
                    "column",
                    column.name,
                    parent=table_key,
                    fields={"native_type": column.native_type, "description": column.comment},
                    details=column_details,
                )
            )
    return nodes


# ---- the crawl -------------------------------------------------------------------------------------


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass
class _View:
    key: str
    schema: str
    sql: str
    columns: list[str]


@records_extraction("sql")
def crawl_sql(
    store: Store,
    principal: Principal,
    url: str,
    *,
    integration: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    progress: Progress | None = None,
) -> Summary:
    """Crawl one database into the workspace; returns what changed (and what failed)."""
    principal.require_admin()
    source = parse_source(url)
    engine = _engine(source)
    try:
        try:
            with engine.connect() as conn:
                schemas = list_schemas(conn, source)
                if source.backend == "mysql" and source.url.database and not include:
                    # A MySQL URL that names a database means that database (MySQL's schemas).
                    include = [source.url.database]
        except SQLAlchemyError as exc:
            raise InvalidInput(
                f"cannot connect to {source.masked}: {_scrub(_reason(exc), source.url)}", field="url"
            ) from exc
        wanted = [s for s in schemas if (not include or _matches(s, include)) and not _matches(s, exclude)]
        name = integration or source.default_integration()
        integration_id = ensure_integration(
            store,
            principal,
            name=name,
            kind=source.backend,
            credentials={"url": mask(url)},
        )
        merger = Merger(store, principal, integration_id, source=name)
        if store.dialect == "sqlite":
            # As for an import: a crawl's index inserts land all over the file; a larger page cache
            # on the writer connection keeps them from thrashing.
            with store.write() as conn:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
        merger.apply([Node(path_key(name, source.database), "database", source.database)])
        failed: set[str] = set()
        views: list[_View] = []
        lineage_schema: dict[str, dict[str, dict[str, str]]] = {}
        for index, schema in enumerate(wanted):
            if progress:
                progress(schema, index, len(wanted))
            try:
                with engine.connect() as conn:
                    tables = read_schema(conn, source, schema)
            except SQLAlchemyError as exc:
                failed.add(schema)
                merger.summary.errors.append(f"schema {schema}: {_scrub(_reason(exc), source.url)}")
                continue
            merger.apply(schema_nodes(name, source.database, schema, tables))
            # Types do not matter for lineage, and vendor type names may not parse in sqlglot.
            shapes = {t.name: dict.fromkeys((c.name for c in t.columns), "text") for t in tables if t.columns}
            if shapes:
                lineage_schema[schema] = shapes
            views.extend(
                _View(
                    path_key(name, source.database, schema, t.name),
                    schema,
                    t.view_sql,
                    [c.name for c in t.columns],
                )
                for t in tables
                if t.view_sql
            )
        if progress:
            progress("", len(wanted), len(wanted))
    finally:
        engine.dispose()

    def in_scope(key: str) -> bool:
        parts = key_parts(key)
        if len(parts) < 3 or parts[0] != name or parts[1] != source.database:
            return False
        schema = parts[2]
        return (
            schema not in failed
            and (not include or _matches(schema, include))
            and not _matches(schema, exclude)
        )

    merger.summary.edges = _view_lineage(store, principal, merger, source, name, views, lineage_schema)
    return merger.finish(in_scope)


def _view_lineage(
    store: Store,
    principal: Principal,
    merger: Merger,
    source: SqlSource,
    integration: str,
    views: Sequence[_View],
    schema: dict[str, dict[str, dict[str, str]]],
) -> int:
    """Parse every view into upstream tables and columns; edges are written through the lineage core."""
    dialect = DIALECTS[source.backend]
    catalog = source.database if source.backend in ("postgresql", "duckdb") else None
    mapping: dict[str, Any] = {catalog: schema} if catalog else schema
    planned: list[tuple[str, list[str]]] = []
    if not (merger.summary.created or merger.summary.unstaled):
        # Nothing appeared, so only a changed view can have changed lineage (an unchanged
        # re-crawl parses nothing and writes nothing).
        views = [v for v in views if v.key in merger.touched]
    for view in views:
        parsed = query_lineage(
            view.sql, dialect=dialect, catalog=catalog, schema_name=view.schema, schema=mapping
        )
        if parsed.error:
            merger.summary.errors.append(f"view {view.schema}.{key_parts(view.key)[-1]}: {parsed.error}")
            continue

        def resolve(ref: TableRef, column: str | None = None, view: _View = view) -> str | None:
            _catalog, schema_name, table = ref
            parts = [integration, source.database, schema_name or view.schema, table]
            if column is not None:
                parts.append(column)
            return merger.resource_id(path_key(*parts))

        view_id = merger.resource_id(view.key)
        if view_id is None:
            continue
        planned.append((view_id, [u for u in (resolve(t) for t in parsed.tables) if u and u != view_id]))
        for column, upstream in parsed.columns.items():
            column_id = merger.resource_id(f"{view.key}/{path_key(column)}")
            if column_id is None:
                continue
            planned.append((column_id, [u for u in (resolve(t, c) for t, c in upstream) if u]))
    return replace_lineage(store, principal, "view", planned, merger.summary)
