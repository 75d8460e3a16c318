"""dbt artifacts (manifest.json, catalog.json, run_results.json) into the catalog.

``parse_dbt_artifacts`` is a pure function from the three JSON documents to plain data (other
faces, such as a dbt upload endpoint, reuse it); ``ingest_dbt`` writes that data:

- each model, seed, snapshot and source is a resource of the dbt integration (a ``table`` with
  ``native_type`` "dbt model", ...); when the warehouse table it builds is in the catalog (a SQL
  crawl found it), the dbt docs are merged onto that table and its columns, and the table's
  ``sources`` lists the dbt node; otherwise the dbt node carries the columns itself;
- tests are ``test`` resources under the project's ``test_suite``, with the last run's status;
  each run_results invocation is recorded as a run of the test;
- exposures are dashboards;
- ``depends_on`` and the compiled SQL give table- and column-level lineage (origin "dbt").
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from cairn.connectors.merge import Merger, columns_of, ensure_integration, replace_lineage, tables_by_title
from cairn.connectors.model import Node, Summary, key_parts, path_key
from cairn.core import records
from cairn.core.errors import InvalidInput
from cairn.core.extractions import records_extraction
from cairn.core.principal import Principal
from cairn.core.sql_lineage import DIALECTS, query_lineage
from cairn.core.tags import TagService
from cairn.models.common import utc_now
from cairn.models.tags import TagWrite
from cairn.store import Store
from cairn.store.schema import catalog_user, resource, run, tag

TABLE_TYPES = ("model", "seed", "snapshot", "source")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ---- parsing (pure) ------------------------------------------------------------------------


def _obj(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} must be a JSON object", field=name)
    return value


def _sub(parent: Any, key: str) -> dict[str, Any]:
    """``parent[key]`` when both are objects, else an empty one (artifacts of other dbt versions)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def _owners(meta: Any) -> list[str]:
    if not isinstance(meta, dict):
        return []
    return _strings(meta.get("owner")) + _strings(meta.get("owners"))


def _relation(node: dict[str, Any]) -> tuple[str, str, str] | None:
    database, schema = node.get("database"), node.get("schema")
    name = node.get("identifier") or node.get("alias") or node.get("name")
    if isinstance(database, str) and isinstance(schema, str) and isinstance(name, str):
        return (database, schema, name)
    return None


def _columns(node: dict[str, Any], catalog_node: dict[str, Any] | None) -> list[dict[str, Any]]:
    documented = _sub(node, "columns")
    found = _sub(catalog_node or {}, "columns")
    out: dict[str, dict[str, Any]] = {}
    for info in sorted(found.values(), key=lambda c: c.get("index") or 0):
        if isinstance(info, dict) and isinstance(info.get("name"), str):
            out[info["name"].lower()] = {
                "name": info["name"],
                "data_type": info.get("type"),
                "index": info.get("index"),
                "description": _text(info.get("comment")),
                "tags": [],
            }
    for name, info in documented.items():
        if not isinstance(info, dict):
            continue
        column = out.setdefault(
            str(name).lower(),
            {
                "name": info.get("name") or name,
                "data_type": None,
                "index": None,
                "description": None,
                "tags": [],
            },
        )
        column["description"] = _text(info.get("description")) or column["description"]
        column["data_type"] = column["data_type"] or info.get("data_type")
        column["tags"] = _strings(info.get("tags"))
    return list(out.values())


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
    nodes_in = _obj(manifest.get("nodes", {}), "manifest.nodes")
    sources_in = _obj(manifest.get("sources", {}), "manifest.sources")
    exposures_in = _obj(manifest.get("exposures", {}), "manifest.exposures")
    catalog_nodes: dict[str, Any] = {}
    if catalog is not None:
        catalog = _obj(catalog, "catalog")
        catalog_nodes = {
            **_obj(catalog.get("nodes", {}), "catalog.nodes"),
            **_obj(catalog.get("sources", {}), "catalog.sources"),
        }
    results: dict[str, dict[str, Any]] = {}
    invocation = None
    if run_results is not None:
        run_results = _obj(run_results, "run_results")
        rmeta = _sub(run_results, "metadata")
        invocation = rmeta.get("invocation_id")
        items = run_results.get("results")
        if not isinstance(items, list):
            raise InvalidInput("run_results.results must be a list", field="run_results.results")
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("unique_id"), str):
                results[item["unique_id"]] = item
    project = metadata.get("project_name")
    packages = [n.get("package_name") for n in nodes_in.values() if isinstance(n, dict)]
    project = project if isinstance(project, str) and project else next((p for p in packages if p), "dbt")

    nodes: list[dict[str, Any]] = []
    for uid, raw in [*nodes_in.items(), *sources_in.items(), *exposures_in.items()]:
        if not isinstance(raw, dict):
            raise InvalidInput(f"manifest node {uid} must be an object", field="manifest.nodes")
        kind = raw.get("resource_type")
        if kind not in (*TABLE_TYPES, "test", "exposure"):
            continue
        config = _sub(raw, "config")
        depends = _sub(raw, "depends_on")
        result = results.get(uid, {})
        timing = [t for t in result.get("timing") or [] if isinstance(t, dict) and t.get("name") == "execute"]
        owner = _sub(raw, "owner")
        name = raw.get("name") if isinstance(raw.get("name"), str) else uid
        node: dict[str, Any] = {
            "unique_id": uid,
            "resource_type": kind,
            "name": f"{raw.get('source_name')}.{name}" if kind == "source" else name,
            "package": raw.get("package_name"),
            "path": raw.get("original_file_path"),
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
            "materialized": config.get("materialized"),
            "sql": raw.get("compiled_code") or raw.get("raw_code") or None,
            "depends_on": _strings(depends.get("nodes")),
            "columns": _columns(raw, catalog_nodes.get(uid)) if kind in TABLE_TYPES else [],
            "status": result.get("status"),
            "message": result.get("message"),
            "failures": result.get("failures"),
            "execution_time": result.get("execution_time"),
            "started_at": timing[0].get("started_at") if timing else None,
            "completed_at": timing[0].get("completed_at") if timing else None,
            "invocation_id": invocation if result else None,
            "tested_node": raw.get("attached_node") if kind == "test" else None,
            "tested_column": raw.get("column_name") if kind == "test" else None,
            "test_name": (raw.get("test_metadata") or {}).get("name") if kind == "test" else None,
            "exposure_type": raw.get("type") if kind == "exposure" else None,
            "url": raw.get("url") if kind == "exposure" else None,
            "label": raw.get("label") if kind == "exposure" else None,
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
    column_lineage = _column_lineage(nodes, by_relation, metadata.get("adapter_type"))
    return {
        "project": project,
        "adapter": metadata.get("adapter_type"),
        "dbt_version": metadata.get("dbt_version"),
        "generated_at": metadata.get("generated_at"),
        "invocation_id": invocation,
        "nodes": nodes,
        "lineage": lineage,
        "column_lineage": column_lineage,
    }


def _column_lineage(
    nodes: Sequence[dict[str, Any]], by_relation: dict[tuple[str, ...], str], adapter: Any
) -> list[dict[str, str]]:
    dialect = DIALECTS.get(adapter, adapter) if isinstance(adapter, str) else None
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


# ---- writing ---------------------------------------------------------------------------------


def tag_ids(
    conn: Connection, store: Store, principal: Principal, names: Sequence[str], cache: dict[str, str]
) -> list[str]:
    """Label tags by name, created when missing (a resource's ``tags`` hold tag ids)."""
    out = []
    for name in dict.fromkeys(names):
        name = name[:200]
        if name not in cache:
            found = conn.execute(
                select(tag.c.id).where(tag.c.workspace_id == principal.workspace_id, tag.c.name == name)
            ).scalar_one_or_none()
            if found is None:
                found = TagService(store).create_in(conn, principal, TagWrite(name=name))["id"]
            cache[name] = str(found)
        out.append(cache[name])
    return out


def user_ids(
    conn: Connection, principal: Principal, owners: Sequence[str], cache: dict[str, str]
) -> list[str]:
    """Owners named by email become catalog users (pending viewers when new); others are skipped."""
    out = []
    ws = principal.workspace_id
    for owner in dict.fromkeys(o.strip() for o in owners):
        if not _EMAIL.match(owner):
            continue
        key = owner.lower()
        if key not in cache:
            found = conn.execute(
                select(catalog_user.c.id).where(
                    catalog_user.c.workspace_id == ws, catalog_user.c.email_key == key
                )
            ).scalar_one_or_none()
            if found is None:
                now = utc_now()
                found = str(uuid.uuid4())
                records.insert_unique(
                    conn,
                    catalog_user,
                    {
                        "workspace_id": ws,
                        "id": found,
                        "email": owner,
                        "email_key": key,
                        "first_name": "",
                        "last_name": "",
                        "role": "viewer",
                        "pending": True,
                        "disabled": False,
                        "is_service_account": False,
                        "profile_picture": None,
                        "last_login": None,
                        "created_at": now,
                        "updated_at": now,
                    },
                    message=f"a user with email {owner} already exists",
                    field="owners",
                )
            cache[key] = str(found)
        out.append(cache[key])
    return out


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@records_extraction("dbt_project")
def ingest_dbt(
    store: Store,
    principal: Principal,
    manifest: dict[str, Any],
    catalog: dict[str, Any] | None = None,
    run_results: dict[str, Any] | None = None,
) -> Summary:
    principal.require_write()
    project = parse_dbt_artifacts(manifest, catalog, run_results)
    name = project["project"]
    integration_id = ensure_integration(store, principal, name=name, kind="dbt", credentials={})
    merger = Merger(store, principal, integration_id, source=f"dbt:{name}")
    nodes = project["nodes"]
    tables = [n for n in nodes if n["resource_type"] in TABLE_TYPES]
    tag_cache: dict[str, str] = {}
    user_cache: dict[str, str] = {}
    with store.write() as conn:
        warehouse = tables_by_title(
            conn,
            principal.workspace_id,
            [".".join(n["relation"]) for n in tables if n["relation"]],
            exclude_integration=integration_id,
        )
        warehouse_columns = columns_of(conn, principal.workspace_id, [r.id for r in warehouse.values()])
        labels = {n["unique_id"]: tag_ids(conn, store, principal, n["tags"], tag_cache) for n in nodes}
        column_labels = {
            (n["unique_id"], c["name"]): tag_ids(conn, store, principal, c["tags"], tag_cache)
            for n in tables
            for c in n["columns"]
        }
        owners = {n["unique_id"]: user_ids(conn, principal, n["owners"], user_cache) for n in nodes}

    def key(uid: str, *rest: str) -> str:
        return path_key(name, uid, *rest)

    def merged(n: dict[str, Any]) -> Any:
        return warehouse.get(".".join(n["relation"]).lower()) if n["relation"] else None

    suite = key("test_suite")
    own: list[Node] = [Node(suite, "test_suite", name, fields={"description": f"dbt tests of {name}"})]
    for n in nodes:
        uid, kind = n["unique_id"], n["resource_type"]
        details: dict[str, Any] = {"dbt_unique_id": uid, "dbt_resource_type": kind}
        for field in ("materialized", "path", "package"):
            if n[field]:
                details[f"dbt_{field}"] = n[field]
        if n["relation"]:
            details["dbt_relation"] = ".".join(n["relation"])
        if n["sql"] and kind != "test":
            details["dbt_sql"] = n["sql"]
        if n["status"] is not None:
            details.update(
                status=n["status"],
                executed_at=n["completed_at"],
                execution_time=n["execution_time"],
                message=n["message"],
                failures=n["failures"],
            )
        lists = {"tags": labels[uid], "owners": owners[uid]}
        if kind in TABLE_TYPES:
            own.append(
                Node(
                    key(uid),
                    "table",
                    n["name"],
                    fields={"native_type": f"dbt {kind}", "description": n["description"]},
                    lists=lists,
                    details=details,
                )
            )
            if merged(n) is None:
                own.extend(
                    Node(
                        key(uid, c["name"]),
                        "column",
                        c["name"],
                        parent=key(uid),
                        fields={"native_type": c["data_type"], "description": c["description"]},
                        lists={"tags": column_labels[(uid, c["name"])]},
                        details={"sort_order": c["index"]} if c["index"] is not None else {},
                    )
                    for c in n["columns"]
                )
        elif kind == "test":
            details.update(
                tested_node=n["tested_node"], tested_column=n["tested_column"], test=n["test_name"]
            )
            own.append(
                Node(
                    key(uid),
                    "test",
                    n["name"],
                    parent=suite,
                    fields={"description": n["description"]},
                    lists=lists,
                    details=details,
                )
            )
        else:
            details.update(exposure_type=n["exposure_type"], label=n["label"])
            own.append(
                Node(
                    key(uid),
                    "dashboard",
                    n["label"] or n["name"],
                    fields={
                        "native_type": f"dbt exposure ({n['exposure_type']})",
                        "description": n["description"],
                        "url": n["url"],
                    },
                    lists=lists,
                    details=details,
                )
            )
    merger.apply(own)
    # The dbt docs onto the warehouse tables (and columns) the nodes build.
    decorations: list[Node] = []
    for n in tables:
        target = merged(n)
        dbt_id = merger.resource_id(key(n["unique_id"]))
        if target is None or dbt_id is None:
            continue
        fields = {"description": n["description"]} if n["description"] else {}
        lists = {"tags": labels[n["unique_id"]], "owners": owners[n["unique_id"]], "sources": [dbt_id]}
        decorations.append(
            Node(
                key(n["unique_id"], "warehouse"),
                "table",
                n["name"],
                fields=fields,
                lists=lists,
                target_id=target.id,
            )
        )
        for c in n["columns"]:
            column_id = warehouse_columns.get(target.id, {}).get(c["name"].lower())
            if column_id is None:
                continue
            decorations.append(
                Node(
                    key(n["unique_id"], "warehouse", c["name"]),
                    "column",
                    c["name"],
                    fields={"description": c["description"]} if c["description"] else {},
                    lists={"tags": column_labels[(n["unique_id"], c["name"])]},
                    target_id=column_id,
                )
            )
    merger.apply(decorations)
    _record_test_runs(store, principal, merger, name, nodes)

    def resolve(uid: str, column: str | None = None) -> str | None:
        node = next((n for n in tables if n["unique_id"] == uid), None)
        target = merged(node) if node is not None else None
        if target is not None:
            return target.id if column is None else warehouse_columns.get(target.id, {}).get(column.lower())
        return merger.resource_id(key(uid) if column is None else key(uid, column))

    upstreams: dict[str, list[str]] = {}
    for edge in project["lineage"]:
        down, up = resolve(edge["downstream"]), resolve(edge["upstream"])
        if down is not None:
            upstreams.setdefault(down, [])
            if up is not None and up != down:
                upstreams[down].append(up)
    for edge in project["column_lineage"]:
        down = resolve(edge["downstream"], edge["downstream_column"])
        up = resolve(edge["upstream"], edge["upstream_column"])
        if down is not None and up is not None:
            upstreams.setdefault(down, []).append(up)
    merger.summary.edges = replace_lineage(store, principal, "dbt", list(upstreams.items()), merger.summary)

    def in_scope(record_key: str) -> bool:
        # Decorations going away stop contributing; they never stale the warehouse table.
        parts = key_parts(record_key)
        return parts[0] == name and (len(parts) < 3 or parts[2] != "warehouse")

    return merger.finish(in_scope)


def _record_test_runs(
    store: Store, principal: Principal, merger: Merger, project: str, nodes: Sequence[dict[str, Any]]
) -> None:
    """One run per test and dbt invocation: re-ingesting the same run_results changes nothing."""
    tested = [n for n in nodes if n["resource_type"] == "test" and n["invocation_id"]]
    if not tested:
        return
    now = utc_now()
    with store.write() as conn:
        for n in tested:
            resource_id = merger.resource_id(path_key(project, n["unique_id"]))
            if resource_id is None:
                continue
            pk = conn.execute(
                select(resource.c.pk).where(
                    resource.c.workspace_id == principal.workspace_id, resource.c.id == resource_id
                )
            ).scalar_one()
            values = {
                "name": n["name"],
                "status": n["status"],
                "started_at": _when(n["started_at"]),
                "finished_at": _when(n["completed_at"]),
                "details": {
                    "failures": n["failures"],
                    "message": n["message"],
                    "execution_time": n["execution_time"],
                },
            }
            existing = conn.execute(
                select(run.c.pk, run.c.status, run.c.details).where(
                    run.c.resource_pk == pk, run.c.run_key == n["invocation_id"]
                )
            ).first()
            if existing is None:
                conn.execute(
                    run.insert().values(
                        resource_pk=pk,
                        workspace_id=principal.workspace_id,
                        id=str(uuid.uuid4()),
                        run_key=n["invocation_id"],
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
            elif (existing.status, existing.details) != (values["status"], values["details"]):
                conn.execute(update(run).where(run.c.pk == existing.pk).values(updated_at=now, **values))
