"""``cairn ingest dbt``: dbt artifacts (manifest.json, catalog.json, run_results.json) into the catalog.

The artifacts are read by ``cairn.connectors.dbt.parse_dbt_artifacts`` (the one dbt reader,
which Secoda's upload endpoint uses too); ``ingest_dbt`` writes that data:

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

from cairn.connectors.dbt import TABLE_TYPES, parse_dbt_artifacts
from cairn.connectors.merge import Merger, columns_of, ensure_integration, replace_lineage, tables_by_title
from cairn.connectors.model import Node, Summary, key_parts, path_key
from cairn.core import records
from cairn.core.extractions import records_extraction
from cairn.core.principal import Principal
from cairn.core.tags import TagService
from cairn.models.common import utc_now
from cairn.models.tags import TagWrite
from cairn.store import Store
from cairn.store.schema import catalog_user, resource, run, tag

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
