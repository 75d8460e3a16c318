"""Lineage from a SQL statement: which catalog tables it reads, and which of their columns feed
each output column (``GET /lineage/lineage_from_query/``).

The statement is parsed with sqlglot; tables are resolved in the catalog by title, with the
schema and database names taken from the statement or, when it leaves them out, from the
request's defaults. Only the outermost SELECT's output columns are traced, through the aliases
of its FROM and JOIN sources; a column whose table cannot be told (an unqualified name over
several tables that the catalog does not settle) is left out rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlalchemy import and_, select
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError

from cairn.core.errors import InvalidInput
from cairn.core.principal import Principal
from cairn.core.resources import ResourceService
from cairn.models.common import iso
from cairn.store import Store
from cairn.store.schema import integration, resource

R = resource.c
MAX_SQL = 100_000


@dataclass(frozen=True)
class TableRef:
    name: str
    schema: str | None
    database: str | None


def _dialect(name: str | None) -> str | None:
    if not name:
        return None
    try:
        Dialect.get_or_raise(name)
    except ValueError as exc:
        raise InvalidInput(f"unknown SQL dialect '{name}'", field="dialect") from exc
    return name


def parse(sql: str, dialect: str | None) -> Any:
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
    statement: Any = statements[0]
    return statement


def _target(statement: exp.Expression) -> exp.Table | None:
    if isinstance(statement, exp.Insert | exp.Create | exp.Merge):
        table = statement.this
        if isinstance(table, exp.Schema):
            table = table.this
        return table if isinstance(table, exp.Table) else None
    return None


def _ref(table: exp.Table) -> TableRef:
    return TableRef(table.name, table.db or None, table.catalog or None)


def source_tables(statement: exp.Expression) -> list[exp.Table]:
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    target = _target(statement)
    found: list[exp.Table] = []
    for table in statement.find_all(exp.Table):
        if table is target or not table.name or (not table.db and table.name.lower() in ctes):
            continue
        found.append(table)
    return found


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
        lineages = self._column_lineage(statement, tables, resolved, columns)
        return {
            "sql": sql,
            "source_tables": [resolved[r] for r in refs if r in resolved],
            "unresolved_tables": [
                ".".join(p for p in (r.database, r.schema, r.name) if p) for r in refs if r not in resolved
            ],
            "column_lineages": lineages,
            "target_table_id": target.id if target is not None else None,
        }

    def _resolve(
        self, conn: Any, principal: Principal, refs: list[TableRef], database: str | None, schema: str | None
    ) -> dict[TableRef, dict[str, Any]]:
        if not refs:
            return {}
        visible = and_(*ResourceService.visibility_of(resource, principal))
        # Unquoted SQL names match whatever case the catalog wrote; these spellings keep the
        # lookup on the (workspace, title) index instead of a scan of lower(title).
        names = sorted({v for r in refs for v in (r.name, r.name.lower(), r.name.upper())})
        rows = conn.execute(
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
            .where(visible, R.title.in_(names))
        ).all()
        # The type is checked here: in SQL it would steer the planner to the (type, usage) index,
        # a scan of every table, instead of the title index.
        rows = [r for r in rows if r.entity_type == "table"]
        # The most used table wins a tie (two schemas with the same table name and no schema given).
        rows.sort(key=lambda r: (-r.external_usage, r.id))
        found: dict[TableRef, dict[str, Any]] = {}
        for ref in refs:
            want_schema = (ref.schema or schema or "").lower() or None
            want_database = (ref.database or database or "").lower() or None
            for row in rows:
                meta = row.search_metadata or {}
                if row.title.lower() != ref.name.lower():
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

    def _columns(self, conn: Any, principal: Principal, table_ids: set[str]) -> dict[str, dict[str, str]]:
        """table id -> lower-cased column title -> column id."""
        out: dict[str, dict[str, str]] = {t: {} for t in table_ids}
        if not table_ids:
            return out
        visible = and_(*ResourceService.visibility_of(resource, principal))
        rows = conn.execute(
            select(R.id, R.title, R.parent_id, R.entity_type).where(
                visible, R.parent_id.in_(sorted(table_ids))
            )
        )
        for row in rows:
            if row.entity_type != "column":  # filtered here so the parent index is the one used
                continue
            out[row.parent_id].setdefault((row.title or "").lower(), row.id)
        return out

    @staticmethod
    def _column_lineage(
        statement: exp.Expression,
        tables: list[exp.Table],
        resolved: dict[TableRef, dict[str, Any]],
        columns: dict[str, dict[str, str]],
    ) -> list[dict[str, Any]]:
        select_node = statement if isinstance(statement, exp.Select) else statement.find(exp.Select)
        if select_node is None:
            return []
        scope_tables = [t for t in tables if t.find_ancestor(exp.Select) is select_node]
        by_alias: dict[str, dict[str, Any] | None] = {}
        for table in scope_tables:
            info = resolved.get(_ref(table))
            by_alias[table.alias_or_name.lower()] = info
            by_alias.setdefault(table.name.lower(), info)
        sources = [resolved.get(_ref(t)) for t in scope_tables]
        lineages: list[dict[str, Any]] = []
        for projection in select_node.expressions:
            output = projection.alias_or_name
            for column in projection.find_all(exp.Column):
                name = str(column.name)
                if not name:
                    continue
                owner: dict[str, Any] | None = None
                if column.table:
                    owner = by_alias.get(column.table.lower())
                else:
                    holders = [
                        s for s in sources if s is not None and name.lower() in columns.get(s["id"], {})
                    ]
                    if len(holders) == 1:
                        owner = holders[0]
                    elif len(sources) == 1:
                        owner = sources[0]
                if owner is None:
                    continue
                lineages.append(
                    {
                        "from_table_id": owner["id"],
                        "from_table": owner["title"],
                        "from_column": name,
                        "from_column_id": columns.get(owner["id"], {}).get(name.lower()),
                        "to_column": output,
                    }
                )
        return lineages
