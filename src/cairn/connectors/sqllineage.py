"""Table- and column-level lineage of one SELECT (a view body, a dbt model), parsed with sqlglot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

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


@dataclass
class QueryLineage:
    tables: list[TableRef] = field(default_factory=list)
    columns: dict[str, list[tuple[TableRef, str]]] = field(default_factory=dict)
    error: str | None = None


def _ref(table: exp.Table) -> TableRef:
    return (table.catalog or None, table.db or None, table.name)


def _select_of(sql: str, dialect: str | None) -> Any:
    parsed = sqlglot.parse_one(sql, read=dialect)
    body = parsed.expression if isinstance(parsed, exp.Create) else None
    return body if body is not None else parsed


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
    result = QueryLineage()
    try:
        select = _select_of(sql, dialect)
        qualified = qualify(
            select,
            schema=schema,
            dialect=dialect,
            catalog=catalog,
            db=schema_name,
            validate_qualify_columns=False,
            quote_identifiers=False,
        )
        root = build_scope(qualified)
    except (SqlglotError, ValueError, KeyError, AttributeError) as exc:
        result.error = f"cannot parse SQL: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return result
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
    for projection in qualified.selects:
        name = projection.alias_or_name
        if not name or name == "*":
            continue
        try:
            node = lineage(
                name, qualified, schema=schema or {}, dialect=dialect, scope=root, trim_selects=False
            )
        except (SqlglotError, ValueError, KeyError, AttributeError):
            continue
        upstream: dict[tuple[TableRef, str], None] = {}
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.source, exp.Table):
                continue
            column = leaf.name.rsplit(".", 1)[-1].strip('"`')
            upstream.setdefault((_ref(leaf.source), column))
        if upstream:
            result.columns[name] = list(upstream)
    return result
