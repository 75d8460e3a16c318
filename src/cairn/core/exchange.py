"""Workspace export and import as JSON Lines.

Each line is ``{"kind": ..., "data": {...}}`` where ``data`` is the object exactly as the API
returns it; a line without ``kind`` is a resource. Integrations come first, then resources
with every parent before its children. Import validates each line like the API does, reports
bad lines by number, and lets the good ones land.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Connection, literal, select, update
from sqlalchemy.exc import IntegrityError

from cairn.core import collections, visibility
from cairn.core.errors import CairnError, InvalidInput
from cairn.core.integrations import IntegrationService, to_integration
from cairn.core.principal import Principal
from cairn.core.resources import ParentInfo, ResourceService, _valid_id
from cairn.models.integrations import IntegrationCreate
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import collection, integration, resource

BATCH = 2000
# Leaf-heavy types are not cached as parents; a nested column's parent is looked up instead.
_UNCACHED_PARENTS = frozenset({"column"})


def export_workspace(store: Store, principal: Principal) -> Iterator[dict[str, Any]]:
    permissions = principal.permissions()
    with store.read() as conn:
        for row in conn.execute(
            select(integration)
            .where(integration.c.workspace_id == principal.workspace_id)
            .order_by(integration.c.pk)
        ):
            yield {"kind": "integration", "data": to_integration(row)}
        for row in _resources_parents_first(conn, principal):
            entity = repo.to_entity(row, permissions)
            visibility.redact(conn, principal, [entity])
            yield {"kind": "resource", "data": entity}
        for record in collections.CollectionService(store).list(principal, conn=conn):
            yield {
                "kind": "collection",
                "data": {
                    "id": record.id,
                    "name": record.name,
                    "codename": record.codename,
                    "external_id": record.external_id,
                    "position": record.position,
                    "collection_type": record.collection_type,
                    "tags": record.labels,
                },
            }


def _resources_parents_first(conn: Connection, principal: Principal) -> Iterator[Any]:
    """Every resource the caller may see; an admin's export is a backup, so it keeps deletions."""
    workspace_id = principal.workspace_id
    r = resource.c
    tree = (
        select(r.pk, literal(0).label("depth"))
        .where(r.workspace_id == workspace_id, r.parent_id.is_(None))
        .cte("tree", recursive=True)
    )
    child = resource.alias("child")
    tree = tree.union_all(
        select(child.c.pk, (tree.c.depth + 1).label("depth"))
        .join(resource, resource.c.pk == tree.c.pk)
        .where(child.c.workspace_id == workspace_id, child.c.parent_id == resource.c.id)
    )
    stmt = (
        select(resource)
        .join(tree, tree.c.pk == r.pk)
        .where(visibility.resource_clause(principal, include_archived=principal.is_admin, include_stale=True))
        .order_by(tree.c.depth, r.pk)
    )
    yield from conn.execution_options(yield_per=BATCH).execute(stmt)


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Importer:
    """Streams lines into a workspace in batches, one write transaction per batch."""

    def __init__(self, store: Store, principal: Principal) -> None:
        principal.require_write()
        self.store = store
        self.principal = principal
        self.resources = ResourceService(store)
        self.integrations = IntegrationService(store)
        self.report = ImportReport()
        self._parents: dict[str, ParentInfo] = {}
        self._pending: dict[str, dict[str, Any]] = {}
        self._integration_ids: set[str] | None = None
        self._existing: set[str] = set()
        self._collection_lines: list[tuple[int, dict[str, Any]]] = []
        self._analyzed_at = 1000

    def run(
        self, lines: Iterable[str | bytes], progress: Callable[[int], None] | None = None
    ) -> ImportReport:
        if self.store.dialect == "sqlite":
            # A bulk load touches index pages all over the file; a larger page cache for this
            # connection keeps the random UUID index inserts from thrashing.
            with self.store.write() as conn:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
        batch: list[tuple[int, dict[str, Any]]] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                self.report.errors.append((number, f"not valid JSON: {exc}"))
                continue
            if not isinstance(parsed, dict):
                self.report.errors.append((number, "a line must be a JSON object"))
                continue
            batch.append((number, parsed))
            if len(batch) >= BATCH:
                self._flush(batch)
                self._refresh_statistics()
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            self._flush(batch)
            if progress:
                progress(len(batch))
        if self.report.total >= 10_000:
            # Fresh statistics let the planner pick the narrow indexes after a bulk load.
            with self.store.write() as conn:
                conn.exec_driver_sql("ANALYZE" if self.store.dialect == "sqlite" else "ANALYZE resource")
        return self.report

    def _refresh_statistics(self) -> None:
        """PostgreSQL plans a growing table from its last statistics: without a fresh ANALYZE the
        id lookups of a bulk load turn into sequential scans. Refresh them as the table doubles."""
        if self.store.dialect != "postgresql" or self.report.total < self._analyzed_at * 2:
            return
        with self.store.write() as conn:
            conn.exec_driver_sql("ANALYZE resource")
            conn.exec_driver_sql("ANALYZE resource_member")
        self._analyzed_at = max(self.report.total, 1)

    def _flush(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        with self.store.write() as conn:
            rows: list[dict[str, Any]] = []
            children: Counter[str] = Counter()
            claimed = [
                line["data"]["id"]
                for _, line in batch
                if line.get("kind", "resource") == "resource"
                and isinstance(line.get("data"), dict)
                and isinstance(line["data"].get("id"), str)
            ]
            self._existing = repo.existing_resource_ids(conn, self.principal.workspace_id, claimed)
            for number, line in batch:
                kind = line.get("kind", "resource")
                data = line.get("data", line if "kind" not in line else None)
                if not isinstance(data, dict):
                    self.report.errors.append((number, "'data' must be a JSON object"))
                    continue
                try:
                    if kind == "integration":
                        self._integration(conn, data)
                        self.report.created["integration"] += 1
                    elif kind == "collection":
                        self._collection_lines.append((number, data))
                        self.report.created["collection"] += 1
                    elif kind == "resource" and data.get("id") == collections.DEFAULT_COLLECTION_ID:
                        self._default_collection(conn, data)
                        self.report.created["resource"] += 1
                    elif kind == "resource":
                        row = self._resource(conn, data, rows)
                        rows.append(row)
                        if row["parent_id"] and not row["archived"]:
                            children[row["parent_id"]] += 1
                    else:
                        raise InvalidInput(f"unknown kind {kind!r}")
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first.get("loc", ())) or "data"
                    self.report.errors.append((number, f"{where}: {first.get('msg')}"))
                except CairnError as exc:
                    self.report.errors.append((number, exc.message))
            repo.insert_rows(conn, rows)
            for row in rows:
                if row["entity_type"] == "collection":
                    collections.attach(conn, self.principal.workspace_id, row)
            for number, data in self._collection_lines:
                try:
                    self._collection_details(conn, data)
                except CairnError as exc:
                    self.report.errors.append((number, exc.message))
            self._collection_lines.clear()
            self._pending.clear()
            self.report.created["resource"] += len(rows)
            if children:
                conn.execute(
                    update(resource)
                    .where(
                        resource.c.workspace_id == self.principal.workspace_id, resource.c.id == _bind("pid")
                    )
                    .values(children_count=resource.c.children_count + _bind("n")),
                    [{"pid": pid, "n": n} for pid, n in children.items()],
                )

    def _integration(self, conn: Connection, data: dict[str, Any]) -> None:
        integration_id = data.get("id")
        if not isinstance(integration_id, str) or not _valid_id(integration_id):
            raise InvalidInput("integration id must be a UUID")
        exists = conn.execute(
            select(integration.c.pk).where(
                integration.c.workspace_id == self.principal.workspace_id, integration.c.id == integration_id
            )
        ).first()
        if exists:
            raise InvalidInput(f"integration {integration_id} already exists")
        body = IntegrationCreate.model_validate(data)
        self.integrations.create_in(conn, self.principal, body, integration_id=integration_id)
        self._known_integrations(conn).add(integration_id)

    def _resource(
        self, conn: Connection, data: dict[str, Any], pending: list[dict[str, Any]]
    ) -> dict[str, Any]:
        resource_id = data.get("id")
        if resource_id is not None and (not isinstance(resource_id, str) or not _valid_id(resource_id)):
            raise InvalidInput("id must be a UUID")
        body = ResourceWrite.model_validate(data)
        kind = self.resources.requested_type(body, None)
        parent = None
        if body.parent is not None:
            parent = self._parent(conn, body.parent)
            if parent is None and body.parent in self._pending:
                parent = ParentInfo.of(_Obj(self._pending[body.parent]))
            if parent is None:
                raise InvalidInput(f"parent {body.parent} does not exist (parents must come before children)")
        if body.integration is not None and body.integration not in self._known_integrations(conn):
            raise InvalidInput(f"integration {body.integration} does not exist")
        if body.collections:
            stored = [
                c for c in body.collections if self._pending.get(c, {}).get("entity_type") != "collection"
            ]
            self.resources._check_collections(conn, self.principal.workspace_id, stored)
        if resource_id is not None and (
            resource_id in self._parents or resource_id in self._pending or resource_id in self._existing
        ):
            raise InvalidInput(f"a resource with id {resource_id} already exists")
        stamps = {
            name: _timestamp(data.get(name))
            for name in ("created_at", "updated_at", "archived_at", "stale_at", "multiplayer_last_modified")
        }
        row = self.resources.new_row(
            self.principal.workspace_id, body, kind, parent, resource_id=resource_id, timestamps=stamps
        )
        row["definition_version"] = max(1, int(data.get("definition_version") or 1))
        if isinstance(data.get("multiplayer_last_modified_by"), str):
            row["multiplayer_last_modified_by"] = data["multiplayer_last_modified_by"][:36]
        if kind not in _UNCACHED_PARENTS:
            self._parents[row["id"]] = ParentInfo(
                row["id"], kind, row["title_full"], row["search_metadata"], row["integration_id"]
            )
        self._pending[row["id"]] = row
        return row

    def _default_collection(self, conn: Connection, data: dict[str, Any]) -> None:
        """Every workspace has the Default collection already: take over its name and text."""
        body = ResourceWrite.model_validate(
            {k: data[k] for k in ("title", "description", "icon") if k in data}
        )
        self.resources.update_in(conn, self.principal, collections.DEFAULT_COLLECTION_ID, body)

    def _collection_details(self, conn: Connection, data: dict[str, Any]) -> None:
        """A ``collection`` line restores what the resource line cannot carry."""
        collection_id = data.get("id")
        row = (
            isinstance(collection_id, str)
            and _valid_id(collection_id)
            and repo.get_row(conn, self.principal.workspace_id, collection_id)
        )
        if not row or row.entity_type != "collection":
            raise InvalidInput(
                f"collection {collection_id} does not exist (its resource line must come first)"
            )
        codename = collections.check_codename(data.get("codename"))
        external_id = data.get("external_id")
        if external_id is not None:
            collections.check_external_id(external_id)
        labels = data.get("tags") or []
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InvalidInput("tags must be a list of strings")
        position = data.get("position")
        values: dict[str, Any] = {
            "codename": codename,
            "external_id": external_id,
            "collection_type": data.get("collection_type")
            if data.get("collection_type") in ("model", "dataset")
            else None,
            "labels": labels,
        }
        if isinstance(position, int) and not isinstance(position, bool):
            values["position"] = position
        try:
            with conn.begin_nested():
                conn.execute(update(collection).where(collection.c.resource_pk == row.pk).values(**values))
        except IntegrityError as exc:
            raise InvalidInput(
                f"codename or external_id of collection {collection_id} is already used"
            ) from exc

    def _parent(self, conn: Connection, parent_id: str) -> ParentInfo | None:
        cached = self._parents.get(parent_id)
        if cached is not None:
            return cached
        if not _valid_id(parent_id):
            return None
        row = repo.get_row(conn, self.principal.workspace_id, parent_id)
        return ParentInfo.of(row) if row is not None else None

    def _known_integrations(self, conn: Connection) -> set[str]:
        if self._integration_ids is None:
            self._integration_ids = set(
                conn.execute(
                    select(integration.c.id).where(integration.c.workspace_id == self.principal.workspace_id)
                ).scalars()
            )
        return self._integration_ids


class _Obj:
    """Attribute access over a pending row dict (so ``ParentInfo.of`` reads it)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.id = row["id"]
        self.entity_type = row["entity_type"]
        self.title_full = row["title_full"]
        self.search_metadata = row["search_metadata"]
        self.integration_id = row["integration_id"]


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)
