"""Lineage from SQL, parsed and traced with sqlglot: the one module behind view and dbt lineage
(``query_lineage``) and Secoda's ``GET /lineage/lineage_from_query/`` (``SqlLineage``).

``query_lineage`` reads a view body or a dbt model against a nested column mapping and never
raises: one bad view must not stop a crawl. ``SqlLineage.from_query`` is strict (bad SQL is a
400), resolves the tables the statement names in the catalog by title, with the schema and
database names taken from the statement or, when it leaves them out, from the request's defaults,
and traces the outermost query's output columns through sqlglot's ``lineage`` against those
tables' catalog columns. A column whose table cannot be told (an unqualified name over several
tables that the catalog does not settle) is left out rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlalchemy import Connection, Row, Select, and_, select
from sqlalchemy.exc import OperationalError
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope
from sqlglot.schema import MappingSchema

from cairn.core.errors import InvalidInput
from cairn.core.principal import Principal
from cairn.core.resources import ResourceService
from cairn.models.common import iso
from cairn.store import Store
from cairn.store.resources import names_missing_index
from cairn.store.schema import integration, resource

R = resource.c
MAX_SQL = 100_000
# (catalog, schema, table); parts the SQL does not name are None.
TableRef = tuple[str | None, str | None, str]
# SQLAlchemy backend names to sqlglot dialects.
DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}
# Tracing errors sqlglot raises on SQL it reads but cannot follow (besides its own).
_TRACE_ERRORS = (SqlglotError, ValueError, KeyError, AttributeError, RecursionError)
# The name a catalog table takes while its statement is traced (see ``SqlLineage._trace``).
_PLACEHOLDER = "_cairn_table_"


@dataclass
class QueryLineage:
    tables: list[TableRef] = field(default_factory=list)
    columns: dict[str, list[tuple[TableRef, str]]] = field(default_factory=dict)
    error: str | None = None


def _ref(table: exp.Table) -> TableRef:
    return (table.catalog or None, table.db or None, table.name)


def _dialect(name: str | None) -> str | None:
    if not name:
        return None
    try:
        Dialect.get_or_raise(name)
    except ValueError as exc:
        raise InvalidInput(f"unknown SQL dialect '{name}'", field="dialect") from exc
    return name


def parse(sql: str, dialect: str | None) -> exp.Expr:
    """Exactly one statement, or ``InvalidInput`` saying where sqlglot stopped."""
    if not sql.strip():
        raise InvalidInput("sql is required", field="sql")
    if len(sql) > MAX_SQL:
        raise InvalidInput(f"sql is longer than {MAX_SQL} characters", field="sql")
    try:
        statements = [s for s in sqlglot.parse(sql, read=_dialect(dialect)) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        raise InvalidInput(
            f"sql cannot be parsed{where}: {first.get('description', exc)}", field="sql"
        ) from exc
    except (SqlglotError, RecursionError) as exc:  # tokenizer errors, absurd nesting
        raise InvalidInput(f"sql cannot be parsed: {str(exc)[:300]}", field="sql") from exc
    if len(statements) != 1:
        raise InvalidInput("send exactly one SQL statement", field="sql")
    return statements[0]


def _target(statement: exp.Expr) -> exp.Table | None:
    if isinstance(statement, exp.Insert | exp.Create | exp.Merge):
        table = statement.this
        if isinstance(table, exp.Schema):
            table = table.this
        return table if isinstance(table, exp.Table) else None
    return None


def _query_of(statement: exp.Expr) -> exp.Expr:
    """The query an ``INSERT ... SELECT`` or ``CREATE ... AS SELECT`` writes; else the statement."""
    if isinstance(statement, exp.Insert | exp.Create) and isinstance(statement.expression, exp.Query):
        return statement.expression
    return statement


def source_tables(statement: exp.Expr) -> list[exp.Table]:
    """The tables a statement reads, as written: not its target, not its CTEs."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    target = _target(statement)
    found: list[exp.Table] = []
    for table in statement.find_all(exp.Table):
        if table is target or not table.name or (not table.db and table.name.lower() in ctes):
            continue
        found.append(table)
    return found


def _depth(mapping: dict[str, Any]) -> int:
    depth, level = 0, mapping
    while isinstance(level, dict) and level:
        depth += 1
        level = next(iter(level.values()))
    return depth


def _subset(
    mapping: dict[str, Any], statement: exp.Expr, catalog: str | None, schema_name: str | None
) -> dict[str, Any]:
    """The part of a catalog -> schema -> table -> column mapping the statement refers to."""
    depth = _depth(mapping)
    if depth < 2:
        return {}
    out: dict[str, Any] = {}
    for table in statement.find_all(exp.Table):
        name, db = table.name, table.db or schema_name
        if depth >= 4:
            cat = table.catalog or catalog or ""
            columns = mapping.get(cat, {}).get(db or "", {}).get(name)
            if columns:
                out.setdefault(cat, {}).setdefault(db or "", {})[name] = columns
        elif depth == 3:
            columns = mapping.get(db or "", {}).get(name)
            if columns:
                out.setdefault(db or "", {})[name] = columns
        elif name in mapping:
            out[name] = mapping[name]
    return out


def trace(
    query: exp.Expr,
    *,
    dialect: str | None,
    catalog: str | None = None,
    schema_name: str | None = None,
    schema: dict[str, Any] | None = None,
    partial: bool = False,
) -> QueryLineage:
    """Tables and per-output-column upstream columns of a parsed query (sqlglot's ``lineage``).

    ``partial``: a qualified column the mapping does not list for its table is traced anyway
    (by default sqlglot refuses the statement).

    Raises what sqlglot raises while qualifying; when only the column tracing fails, the tables
    are still returned. ``query`` is qualified in place (pass a copy to keep it).
    """
    result = QueryLineage()
    # Only the tables the statement names: normalizing a whole warehouse's mapping on every
    # call would cost far more than the parse.
    relevant = MappingSchema(_subset(schema or {}, query, catalog, schema_name), dialect=dialect)
    qualified = qualify(
        query,
        schema=relevant,
        dialect=dialect,
        catalog=catalog,
        db=schema_name,
        validate_qualify_columns=False,
        allow_partial_qualification=partial,
        quote_identifiers=False,
    )
    root = build_scope(qualified)
    if root is None:
        return result
    seen: dict[TableRef, None] = {}
    for scope in root.traverse():
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                seen.setdefault(_ref(source))
    result.tables = list(seen)
    if not isinstance(qualified, exp.Query):
        return result
    try:
        nodes = lineage(
            None, qualified, schema=relevant, dialect=dialect, scope=root, trim_selects=False, copy=False
        )
    except _TRACE_ERRORS:
        return result
    for name, node in nodes.items() if isinstance(nodes, dict) else []:
        upstream: dict[tuple[TableRef, str], None] = {}
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.source, exp.Table):
                continue
            column = leaf.name.rsplit(".", 1)[-1].strip('"`')
            upstream.setdefault((_ref(leaf.source), column))
        if upstream:
            result.columns[name] = list(upstream)
    return result


def query_lineage(
    sql: str,
    *,
    dialect: str | None,
    catalog: str | None = None,
    schema_name: str | None = None,
    schema: dict[str, Any] | None = None,
) -> QueryLineage:
    """Upstream tables and, per output column, the upstream columns it is computed from.

    ``schema`` is sqlglot's nested mapping (catalog -> schema -> table -> column -> type); with it
    ``SELECT *`` and unqualified columns resolve. A statement sqlglot cannot read gives an empty
    result with ``error`` set: one bad view must not stop a crawl.
    """
    try:
        query = _query_of(sqlglot.parse_one(sql, read=dialect))
        return trace(query, dialect=dialect, catalog=catalog, schema_name=schema_name, schema=schema)
    except _TRACE_ERRORS as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return QueryLineage(error=f"cannot parse SQL: {message}")


def _on_index(conn: Connection, index: str, statement: Select[Any]) -> list[Row[Any]]:
    """The rows of ``statement``, read through ``index`` on SQLite (without it while a bulk
    import has dropped it: ``names_missing_index``)."""
    if conn.dialect.name != "sqlite":
        return list(conn.execute(statement))
    try:
        return list(conn.execute(statement.with_hint(resource, f"INDEXED BY {index}", "sqlite")))
    except OperationalError as exc:
        if not names_missing_index(exc):
            raise
        return list(conn.execute(statement))


class SqlLineage:
    def __init__(self, store: Store) -> None:
        self.store = store

    def from_query(
        self,
        principal: Principal,
        sql: str,
        *,
        dialect: str | None = None,
        database: str | None = None,
        schema: str | None = None,
        table_id: str | None = None,
    ) -> dict[str, Any]:
        statement = parse(sql, dialect)
        tables = source_tables(statement)
        refs = list(dict.fromkeys(_ref(t) for t in tables))
        with self.store.read() as conn:
            resolved = self._resolve(conn, principal, refs, database, schema)
            columns = self._columns(conn, principal, {r["id"] for r in resolved.values()})
            target = None
            if table_id is not None:
                target = ResourceService(self.store)._visible_row(conn, principal, table_id, None)
                if target.entity_type != "table":
                    raise InvalidInput(
                        f"table_id {table_id} is a {target.entity_type}, not a table", field="table_id"
                    )
        lineages = self._column_lineage(statement, tables, resolved, columns, dialect)
        return {
            "sql": sql,
            "source_tables": [resolved[r] for r in refs if r in resolved],
            "unresolved_tables": [".".join(p for p in r if p) for r in refs if r not in resolved],
            "column_lineages": lineages,
            "target_table_id": target.id if target is not None else None,
        }

    def _resolve(
        self, conn: Any, principal: Principal, refs: list[TableRef], database: str | None, schema: str | None
    ) -> dict[TableRef, dict[str, Any]]:
        if not refs:
            return {}
        visible = and_(*ResourceService.visibility_of(resource, principal))
        # Both lookups name their index on SQLite: without statistics (a catalog loaded by
        # import_metadata is never ANALYZEd) the planner prefers ix_resource_visible, whose three
        # equality terms (workspace, archived, stale) select every row: 30-50 ms at 100k
        # resources against well under one.
        # Unquoted SQL names match whatever case the catalog wrote; these spellings keep the
        # lookup on the (workspace, title) index instead of a scan of lower(title).
        names = sorted({v for *_, name in refs for v in (name, name.lower(), name.upper())})
        rows = _on_index(
            conn,
            "ix_resource_title",
            select(
                R.id,
                R.created_at,
                R.updated_at,
                R.title,
                R.native_type,
                R.integration_id,
                R.search_metadata,
                R.external_usage,
                R.entity_type,
                integration.c.name.label("integration_title"),
                integration.c.type.label("integration_type"),
            )
            .outerjoin(
                integration,
                and_(integration.c.workspace_id == R.workspace_id, integration.c.id == R.integration_id),
            )
            .where(visible, R.title.in_(names)),
        )
        # The type is checked here: in SQL it would steer the planner to the (type, usage) index,
        # a scan of every table, instead of the title index.
        rows = [r for r in rows if r.entity_type == "table"]
        # The most used table wins a tie (two schemas with the same table name and no schema given).
        rows.sort(key=lambda r: (-r.external_usage, r.id))
        found: dict[TableRef, dict[str, Any]] = {}
        for ref in refs:
            ref_database, ref_schema, ref_name = ref
            want_schema = (ref_schema or schema or "").lower() or None
            want_database = (ref_database or database or "").lower() or None
            for row in rows:
                meta = row.search_metadata or {}
                if row.title.lower() != ref_name.lower():
                    continue
                if want_schema and str(meta.get("schema", "")).lower() != want_schema:
                    continue
                if want_database and str(meta.get("database", "")).lower() != want_database:
                    continue
                found[ref] = {
                    "id": row.id,
                    "created_at": iso(row.created_at),
                    "updated_at": iso(row.updated_at),
                    "title": row.title,
                    "schema_name": meta.get("schema"),
                    "database_name": meta.get("database"),
                    "native_type": row.native_type,
                    "integration_id": row.integration_id,
                    "integration_title": row.integration_title,
                    "integration_type": row.integration_type,
                }
                break
        return found

    def _columns(
        self, conn: Any, principal: Principal, table_ids: set[str]
    ) -> dict[str, dict[str, tuple[str, str]]]:
        """table id -> lower-cased column title -> (column id, column title)."""
        out: dict[str, dict[str, tuple[str, str]]] = {t: {} for t in table_ids}
        if not table_ids:
            return out
        visible = and_(*ResourceService.visibility_of(resource, principal))
        rows = _on_index(
            conn,
            "ix_resource_parent",
            select(R.id, R.title, R.parent_id, R.entity_type).where(
                visible, R.parent_id.in_(sorted(table_ids))
            ),
        )
        for row in rows:
            if row.entity_type != "column":  # filtered here so the parent index is the one used
                continue
            title = row.title or ""
            out[row.parent_id].setdefault(title.lower(), (row.id, title))
        return out

    @staticmethod
    def _column_lineage(
        statement: exp.Expr,
        tables: list[exp.Table],
        resolved: dict[TableRef, dict[str, Any]],
        columns: dict[str, dict[str, tuple[str, str]]],
        dialect: str | None,
    ) -> list[dict[str, Any]]:
        """Per output column of the outermost query, the catalog columns it is computed from.

        Each resolved table is renamed to a placeholder (keeping the name it is referred to by as
        its alias) and traced against a mapping of its catalog columns: sqlglot then settles
        unqualified columns, ``*`` and CTEs and subqueries by the catalog alone, whatever
        qualification the statement and the defaults used to find the table. The statement is
        consumed (renamed and qualified in place): a copy would cost as much as the parse.
        """
        query = _query_of(statement)
        if not isinstance(query, exp.Query):
            return []
        # sqlglot normalizes unquoted names (lower case for most dialects): outputs keep the SQL's.
        spelled = {p.alias_or_name.lower(): p.alias_or_name for p in query.selects}
        wanted = {id(t) for t in tables}
        owners: dict[str, dict[str, Any]] = {}
        mapping: dict[str, dict[str, str]] = {}
        for table in list(statement.find_all(exp.Table)):  # listed first: renamed as we go
            info = resolved.get(_ref(table)) if id(table) in wanted else None
            if info is None:
                continue
            placeholder = f"{_PLACEHOLDER}{len(owners)}"
            owners[placeholder] = info
            known = {title: "text" for _, title in columns.get(info["id"], {}).values()}
            if known:  # an empty entry would hide the others' columns from sqlglot's schema
                mapping[placeholder] = known
            if not table.alias:  # columns may still name it as the statement did
                table.set("alias", exp.TableAlias(this=table.this.copy()))
            table.set("this", exp.to_identifier(placeholder, quoted=True))
            table.set("db", None)
            table.set("catalog", None)
        try:
            traced = trace(query, dialect=dialect, schema=mapping, partial=True)
        except _TRACE_ERRORS:
            return []
        lineages: list[dict[str, Any]] = []
        for output, upstream in traced.columns.items():
            for (_catalog, _db, name), column in upstream:
                owner = owners.get(name)
                if owner is None:
                    continue
                found = columns.get(owner["id"], {}).get(column.lower())
                lineages.append(
                    {
                        "from_table_id": owner["id"],
                        "from_table": owner["title"],
                        "from_column": found[1] if found else column,
                        "from_column_id": found[0] if found else None,
                        "to_column": spelled.get(output.lower(), output),
                    }
                )
        return lineages
