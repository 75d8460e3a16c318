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
from sqlglot.schema import MappingSchema

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


def _depth(mapping: dict[str, Any]) -> int:
    depth, level = 0, mapping
    while isinstance(level, dict) and level:
        depth += 1
        level = next(iter(level.values()))
    return depth


def _subset(
    mapping: dict[str, Any], statement: exp.Expression, catalog: str | None, schema_name: str | None
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
        # Only the tables the statement names: normalizing a whole warehouse's mapping on every
        # call would cost far more than the parse.
        relevant = MappingSchema(_subset(schema or {}, select, catalog, schema_name), dialect=dialect)
        qualified = qualify(
            select,
            schema=relevant,
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
    try:
        nodes = lineage(None, qualified, schema=relevant, dialect=dialect, scope=root, trim_selects=False)
    except (SqlglotError, ValueError, KeyError, AttributeError):
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
