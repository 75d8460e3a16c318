"""dbt artifacts (``manifest.json``, ``catalog.json``, ``run_results.json``): the one reader.

``parse_dbt_artifacts`` is a pure function from the three JSON documents to plain data: the
project, its models, seeds, snapshots, sources, tests and exposures, and their table- and
column-level lineage. Two thin entry points write it:

- ``cairn ingest dbt`` (``connectors/dbt_project.py``) merges it into the dbt integration and
  onto the warehouse tables a crawl found;
- Secoda's ``upload_artifacts`` (``core/sync.py``) takes ``parse_artifacts``: the same data as
  the ingest engine's records (``cairn.core.ingest``), tables under their database and schema.

Bad artifacts are ``InvalidInput`` naming the artifact, whichever entry point reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from cairn.core.errors import InvalidInput
from cairn.core.exchange import parse_timestamp
from cairn.core.ingest import Link, Record, synthetic_id
from cairn.core.sql_lineage import DIALECTS, query_lineage
from cairn.models.common import check_text

TABLE_TYPES = ("model", "seed", "snapshot", "source")
FAILING = frozenset({"fail", "error"})


# ---- reading (pure) ------------------------------------------------------------------------


def load(data: bytes, name: str) -> dict[str, Any]:
    """An uploaded artifact: a JSON object, or ``InvalidInput`` naming it."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{name} is not valid JSON: {exc}", field=name) from exc
    return _obj(parsed, name)


def _obj(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be a JSON object", field=name)
    return value


def _sub(parent: Any, key: str) -> dict[str, Any]:
    """``parent[key]`` when both are objects, else an empty one (artifacts of other dbt versions)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _storable(value: Any, artifact: str) -> str | None:
    """A string as written, refused when no backend can store it (NUL, lone surrogates)."""
    if not isinstance(value, str):
        return None
    try:
        return check_text(value)
    except ValueError as exc:
        raise InvalidInput(f"dbt artifact text {exc}", field=artifact) from exc


def _text(value: Any, artifact: str = "manifest") -> str | None:
    text = _storable(value, artifact)
    return text.strip() or None if text is not None else None


def _strings(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [t for t in (_text(v) for v in values) if t]


def _owners(meta: Any) -> list[str]:
    if not isinstance(meta, dict):
        return []
    return _strings(meta.get("owner")) + _strings(meta.get("owners"))


def _relation(node: dict[str, Any]) -> tuple[str, str, str] | None:
    database, schema = _text(node.get("database")), _text(node.get("schema"))
    name = _text(node.get("identifier")) or _text(node.get("alias")) or _text(node.get("name"))
    if database and schema and name:
        return (database, schema, name)
    return None


def _columns(node: dict[str, Any], catalog_node: dict[str, Any] | None) -> list[dict[str, Any]]:
    documented = _sub(node, "columns")
    found = _sub(catalog_node or {}, "columns")
    out: dict[str, dict[str, Any]] = {}
    for info in sorted(found.values(), key=lambda c: c.get("index") or 0):
        name = _text(info.get("name"), "catalog") if isinstance(info, dict) else None
        if name:
            out[name.lower()] = {
                "name": name,
                "data_type": _text(info.get("type"), "catalog"),
                "index": info.get("index"),
                "description": _text(info.get("comment"), "catalog"),
                "tags": [],
            }
    for key, info in documented.items():
        if not isinstance(info, dict):
            continue
        name = _text(info.get("name")) or str(key)
        column = out.setdefault(
            name.lower(),
            {"name": name, "data_type": None, "index": None, "description": None, "tags": []},
        )
        column["description"] = _text(info.get("description")) or column["description"]
        column["data_type"] = column["data_type"] or _text(info.get("data_type"))
        column["tags"] = _strings(info.get("tags"))
    return list(out.values())


def _results(run_results: dict[str, Any]) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The invocation id and, per unique id, its result in plain, checked values."""
    name = "run_results"
    items = run_results.get("results")
    if not isinstance(items, list):
        raise InvalidInput(
            f"{name} has no 'results' list (is it a dbt run_results.json?)", field=f"{name}.results"
        )
    out: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("unique_id"), str):
            raise InvalidInput(f"{name} results[{index}] has no unique_id", field=f"{name}.results")
        execute = [t for t in item.get("timing") or [] if isinstance(t, dict) and t.get("name") == "execute"]
        failures, elapsed = item.get("failures"), item.get("execution_time")
        out[item["unique_id"]] = {
            "status": (_text(str(item.get("status") or ""), name) or "unknown").lower()[:32],
            "message": _text(item.get("message"), name),
            "failures": failures if isinstance(failures, int) and not isinstance(failures, bool) else None,
            "execution_time": float(elapsed) if isinstance(elapsed, int | float) else None,
            "started_at": _text(execute[0].get("started_at"), name) if execute else None,
            "completed_at": _text(execute[0].get("completed_at"), name) if execute else None,
        }
    invocation = _text(_sub(run_results, "metadata").get("invocation_id"), name)
    return (invocation[:200] if invocation else None), out


def parse_dbt_artifacts(
    manifest: dict[str, Any],
    catalog: dict[str, Any] | None = None,
    run_results: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Plain data from dbt's artifacts: the project, its nodes, and their lineage.

    Raises ``InvalidInput`` naming the artifact when one is not the shape dbt writes.
    """
    manifest = _obj(manifest, "manifest")
    metadata = _sub(manifest, "metadata")
    nodes_in = manifest.get("nodes")
    if not isinstance(nodes_in, dict):
        raise InvalidInput(
            "manifest has no 'nodes' object (is it a dbt manifest.json?)", field="manifest.nodes"
        )
    sources_in = _obj(manifest.get("sources", {}), "manifest.sources")
    exposures_in = _obj(manifest.get("exposures", {}), "manifest.exposures")
    catalog_nodes: dict[str, Any] = {}
    if catalog is not None:
        catalog = _obj(catalog, "catalog")
        catalog_nodes = {
            **_obj(catalog.get("nodes", {}), "catalog.nodes"),
            **_obj(catalog.get("sources", {}), "catalog.sources"),
        }
    invocation, results = (
        _results(_obj(run_results, "run_results")) if run_results is not None else (None, {})
    )
    project = _text(metadata.get("project_name"))
    packages = [_text(n.get("package_name")) for n in nodes_in.values() if isinstance(n, dict)]
    project = project or next((p for p in packages if p), "dbt")

    nodes: list[dict[str, Any]] = []
    for uid, raw in [*nodes_in.items(), *sources_in.items(), *exposures_in.items()]:
        if not isinstance(raw, dict):
            raise InvalidInput(f"manifest node {uid} must be an object", field="manifest.nodes")
        kind = raw.get("resource_type")
        if kind not in (*TABLE_TYPES, "test", "exposure"):
            continue
        config = _sub(raw, "config")
        owner = _sub(raw, "owner")
        result = results.get(uid, {})
        name = _text(raw.get("name")) or uid
        test_meta = _sub(raw, "test_metadata")
        node: dict[str, Any] = {
            "unique_id": uid,
            "resource_type": kind,
            "name": f"{_text(raw.get('source_name'))}.{name}" if kind == "source" else name,
            # The table's title in Secoda's upload: what the warehouse calls it, else the name.
            "table_name": _text(raw.get("alias")) or _text(raw.get("identifier")) or name,
            "database": _text(raw.get("database")),
            "schema": _text(raw.get("schema")),
            "package": _text(raw.get("package_name")),
            "path": _text(raw.get("original_file_path")),
            "relation": _relation(raw) if kind in TABLE_TYPES else None,
            "description": _text(raw.get("description")),
            "tags": list(dict.fromkeys(_strings(raw.get("tags")) + _strings(config.get("tags")))),
            "owners": list(
                dict.fromkeys(
                    _owners(raw.get("meta"))
                    + _owners(config.get("meta"))
                    + _strings(owner.get("email") or owner.get("name"))
                )
            ),
            "materialized": _text(config.get("materialized")),
            "sql": _storable(raw.get("compiled_code") or raw.get("raw_code"), "manifest") or None,
            "depends_on": _strings(_sub(raw, "depends_on").get("nodes")),
            "columns": _columns(raw, catalog_nodes.get(uid)) if kind in TABLE_TYPES else [],
            "status": result.get("status"),
            "message": result.get("message"),
            "failures": result.get("failures"),
            "execution_time": result.get("execution_time"),
            "started_at": result.get("started_at"),
            "completed_at": result.get("completed_at"),
            "invocation_id": invocation if result else None,
            "tested_node": _text(raw.get("attached_node")) if kind == "test" else None,
            "tested_column": _text(raw.get("column_name")) if kind == "test" else None,
            "test_name": _text(test_meta.get("name")) if kind == "test" else None,
            "exposure_type": _text(raw.get("type")) if kind == "exposure" else None,
            "url": _text(raw.get("url")) if kind == "exposure" else None,
            "label": _text(raw.get("label")) if kind == "exposure" else None,
        }
        nodes.append(node)
    by_relation = {
        tuple(p.lower() for p in n["relation"]): n["unique_id"] for n in nodes if n["relation"] is not None
    }
    known = {n["unique_id"] for n in nodes}
    lineage = [
        {"upstream": up, "downstream": n["unique_id"]}
        for n in nodes
        if n["resource_type"] != "test"
        for up in n["depends_on"]
        if up in known
    ]
    adapter = _text(metadata.get("adapter_type"))
    return {
        "project": project,
        "adapter": adapter,
        "dbt_version": _text(metadata.get("dbt_version")),
        "generated_at": _text(metadata.get("generated_at")),
        "invocation_id": invocation,
        "nodes": nodes,
        "lineage": lineage,
        "column_lineage": _column_lineage(nodes, by_relation, adapter),
    }


def _column_lineage(
    nodes: Sequence[dict[str, Any]], by_relation: dict[tuple[str, ...], str], adapter: str | None
) -> list[dict[str, str]]:
    dialect = DIALECTS.get(adapter, adapter) if adapter else None
    mapping: dict[str, Any] = {}
    for n in nodes:
        if n["relation"] is not None and n["columns"]:
            database, schema, name = n["relation"]
            mapping.setdefault(database, {}).setdefault(schema, {})[name] = dict.fromkeys(
                (c["name"] for c in n["columns"]), "text"
            )
    out: list[dict[str, str]] = []
    for n in nodes:
        if n["resource_type"] not in ("model", "snapshot") or not n["sql"] or n["relation"] is None:
            continue
        database, schema, _ = n["relation"]
        parsed = query_lineage(
            n["sql"], dialect=dialect, catalog=database, schema_name=schema, schema=mapping
        )
        for column, upstream in parsed.columns.items():
            for (cat, db, table), up_column in upstream:
                up = by_relation.get(((cat or database).lower(), (db or schema).lower(), table.lower()))
                if up is not None and up != n["unique_id"]:
                    out.append(
                        {
                            "upstream": up,
                            "upstream_column": up_column,
                            "downstream": n["unique_id"],
                            "downstream_column": column,
                        }
                    )
    return out


# ---- the ingest engine's records (Secoda's upload_artifacts) --------------------------------


@dataclass(frozen=True)
class DbtResult:
    """One entry of ``run_results.json``."""

    unique_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    execution_time: float | None
    message: str | None
    failures: int | None


@dataclass
class DbtArtifacts:
    records: list[Record] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    results: list[DbtResult] = field(default_factory=list)
    invocation_id: str | None = None


def parse_artifacts(
    manifest: bytes, run_results: bytes | None = None, *, manifest_name: str = "manifest"
) -> DbtArtifacts:
    """Uploaded artifacts as records: tables (and their columns) under their database and schema,
    tests naming what they test with the last status, and ``depends_on`` between tables."""
    results_doc = load(run_results, "run_results") if run_results is not None else None
    project = parse_dbt_artifacts(load(manifest, manifest_name), None, results_doc)
    out = DbtArtifacts(invocation_id=project["invocation_id"])
    nodes = project["nodes"]
    tables = {n["unique_id"] for n in nodes if n["resource_type"] in TABLE_TYPES}
    for n in nodes:
        uid, kind = n["unique_id"], n["resource_type"]
        where = f"{manifest_name} node {uid}"
        if n["status"] is not None:
            out.results.append(
                DbtResult(
                    unique_id=uid,
                    status=n["status"],
                    started_at=parse_timestamp(n["started_at"]),
                    finished_at=parse_timestamp(n["completed_at"]),
                    execution_time=n["execution_time"],
                    message=n["message"],
                    failures=n["failures"],
                )
            )
        if kind in TABLE_TYPES:
            out.records.extend(_table_records(n, where, manifest_name))
            out.links.extend(
                Link(dep, uid, where)
                for dep in dict.fromkeys(n["depends_on"])
                if dep in tables and dep != uid
            )
        elif kind == "test":
            tested = [d for d in n["depends_on"] if d in tables]
            attached = n["tested_node"]
            if attached in tables and attached not in tested:
                tested.insert(0, attached)
            details: dict[str, Any] = {"dbt_tested": tested}
            if n["tested_column"]:
                details["dbt_column"] = n["tested_column"]
            if n["status"] is not None:
                details["dbt_status"] = n["status"]
                if n["failures"] is not None:
                    details["dbt_failures"] = n["failures"]
                if n["message"]:
                    details["dbt_message"] = n["message"]
            out.records.append(
                Record(
                    entity_type="test",
                    databuilder_id=uid,
                    title=n["name"],
                    description=n["description"],
                    native_type=n["test_name"] or "singular",
                    details=details,
                    where=where,
                )
            )
    return out


def _table_records(n: dict[str, Any], where: str, manifest_name: str) -> list[Record]:
    uid, kind = n["unique_id"], n["resource_type"]
    database = n["database"] or "default"
    schema = n["schema"]
    if schema is None:
        raise InvalidInput(f"{where} has no schema", field=manifest_name)
    native = (n["materialized"] if kind == "model" else None) or kind
    records = [
        Record(
            entity_type="table",
            databuilder_id=uid,
            title=n["table_name"],
            parent_databuilder_id=synthetic_id("schema", f"{database}.{schema}"),
            description=n["description"],
            native_type=native,
            search_metadata={"schema": schema, "database": database},
            where=where,
        )
    ]
    records.extend(
        Record(
            entity_type="column",
            databuilder_id=f"{uid}.{c['name']}",
            title=c["name"],
            parent_databuilder_id=uid,
            description=c["description"],
            native_type=c["data_type"],
            details={"sort_order": position},
            where=f"{where} column {c['name']}",
        )
        for position, c in enumerate(n["columns"])
    )
    return records
