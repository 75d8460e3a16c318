"""Resource rules: hierarchy, derived fields, visibility, paging. Every dialect calls this."""

from __future__ import annotations

import builtins
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, FromClause, Row, and_, bindparam, select

from cairn.core import audit, collections, extras, history, visibility
from cairn.core import filters as flt
from cairn.core.errors import InvalidInput, NotFound, PreconditionFailed
from cairn.core.hierarchy import (
    CASCADE_DELETE,
    INTEGRATION_REQUIRED,
    camel_case,
    canonical_type,
    check_parent,
    derive_search_metadata,
    title_full,
)
from cairn.core.principal import Principal
from cairn.models.common import utc_now
from cairn.models.resources import LIST_FIELDS, BulkUpdateItem, ResourceWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.prepared import Prepared
from cairn.store.schema import integration, resource, tag

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BULK = 100
RESULT_CAP = 10_000

# Plain columns copied from a write body as they are.
_DIRECT_FIELDS = (
    "native_type",
    "description",
    "icon",
    "url",
    "pii",
    "verified",
    "published",
    "forced_unstale_by_user",
    "internal_usage",
    "external_usage",
    "row_count",
    "byte_size",
    "databuilder_id",
    "external_updated_at",
    "display_metadata",
    "question_status",
    "question_priority",
    "question_answered_by",
    "question_assigned_to",
)


@dataclass(frozen=True)
class ParentInfo:
    """What a child needs from its parent: type rules and inherited context."""

    id: str
    entity_type: str
    title_full: str | None
    search_metadata: dict[str, Any]
    integration_id: str | None

    @classmethod
    def of(cls, row: Any) -> ParentInfo:
        return cls(row.id, row.entity_type, row.title_full, row.search_metadata or {}, row.integration_id)


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    cap: int | None = None  # results reachable across all pages (None: unlimited)


@dataclass(frozen=True)
class PageResult:
    items: list[dict[str, Any]]
    count: int
    page: int
    page_size: int
    total_pages: int

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.total_pages else None

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


def check_paging(request: PageRequest) -> None:
    if request.page < 1:
        raise InvalidInput("page must be 1 or more", field="page")
    if not 1 <= request.page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}", field="page_size")


def check_page(request: PageRequest, count: int) -> int:
    """Total pages for ``count`` results; a page past the end is a 404 (DRF's 'Invalid page.')."""
    check_paging(request)
    reachable = count if request.cap is None else min(count, request.cap)
    total_pages = math.ceil(reachable / request.page_size)
    if request.page > max(total_pages, 1):
        raise NotFound("Invalid page.", field="page")
    return total_pages


_DEFAULT_SORT = tuple(flt.DEFAULT_SORT)


class ResourceService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- reads -------------------------------------------------------------------------

    def visibility(self, principal: Principal, node: flt.Filter | None) -> ColumnElement[bool]:
        """What a caller may see; the one place read paths get their base conditions."""
        return and_(*self.visibility_of(resource, principal, node))

    @staticmethod
    def visibility_of(
        table: FromClause, principal: Principal, node: flt.Filter | None = None
    ) -> builtins.list[ColumnElement[bool]]:
        """The visibility rule over ``table`` (the resource table or an alias of it).

        The rule itself (roles, published, teams) lives in core/visibility.py.
        """
        return [
            visibility.resource_clause(
                principal,
                table=table,
                include_archived=flt.mentions(node, "archived"),
                include_stale=flt.mentions(node, "stale"),
                path_filter=any(flt.mentions(node, name) for name in flt.PATH_FIELDS),
            )
        ]

    def get(
        self, principal: Principal, resource_id: str, *, entity_type: str | None = None, wire: bool = False
    ) -> dict[str, Any]:
        """``wire``: the entity only to be serialised with orjson (see ``entities``)."""
        with self.store.read() as conn:
            if not wire:
                row = self._visible_row(conn, principal, resource_id, entity_type)
                return self.entity(conn, row, principal)
            dialect = self.store.dialect
            stmt = visibility.statement_for(
                principal,
                ("wire_row_by_id", dialect),
                lambda visible: _wire_row(visible, dialect),
                include_stale=True,
            )
            found = (
                stmt.rows(conn, {"ws": principal.workspace_id, "rid": resource_id})
                if _valid_id(resource_id)
                else []
            )
            if not found or (
                entity_type is not None and found[0][repo.WIRE_AT["entity_type"]] != entity_type
            ):
                raise NotFound("Not found.")
            return self.entities(conn, found, principal, wire=True)[0]

    @staticmethod
    def entity(conn: Connection, row: Row[Any] | dict[str, Any], principal: Principal) -> dict[str, Any]:
        """The full entity: the row, its custom property values and its type-specific details."""
        return ResourceService.entities(conn, [row], principal)[0]

    @staticmethod
    def entities(
        conn: Connection, rows: Sequence[Any], principal: Principal, *, wire: bool = False
    ) -> builtins.list[dict[str, Any]]:
        """``entity`` of many rows (one query per side table for them all).

        ``wire``: the rows were selected with ``repo.wire_columns`` and the entities are only
        serialised with orjson (their JSON fields are pre-encoded fragments, see
        ``repo.to_wire_entity``; rows are read by position, so plain tuples will do); the HTTP faces
        use it, everything that reads the values does not.
        """
        permissions = principal.permissions()
        if wire:
            items = [repo.to_wire_entity(r, permissions) for r in rows]
            extras.decorate(conn, rows, items, pks=[r[repo.WIRE_PK_AT] for r in rows])
            bits = [r[repo.WIRE_HIDDEN_ABOVE_AT] for r in rows]
        else:
            items = [repo.to_entity(r, permissions) for r in rows]
            extras.decorate(conn, rows, items)
            bits = [visibility.hidden_above_bits(r) for r in rows]
        visibility.redact(conn, principal, items, bits)
        return items

    def _visible_row(
        self, conn: Connection, principal: Principal, resource_id: str, entity_type: str | None
    ) -> Row[Any]:
        row = _valid_id(resource_id) and visibility.visible_row(conn, principal, resource_id)
        if not row or (entity_type is not None and row.entity_type != entity_type):
            raise NotFound("Not found.")
        found: Row[Any] = row
        return found

    def list(
        self,
        principal: Principal,
        *,
        filter_node: flt.Filter | None = None,
        sort: Sequence[flt.SortKey] | None = None,
        paging: PageRequest = PageRequest(),
        team: str | None = None,
        count_up_to: int | None = None,
        wire: bool = False,
    ) -> PageResult:
        """``count_up_to``: count matches only that far (pages that show "1,000+" need no full
        count, which on a million rows costs more than the page itself); None counts them all.
        ``wire``: items only to be serialised with orjson (see ``entities``)."""
        node = filter_node
        if team:
            # ``teams`` narrows to resources of any of the given (comma-separated) teams.
            wanted = [t.strip() for t in team.split(",") if t.strip()]
            if len(wanted) > flt.MAX_IN_VALUES:
                raise InvalidInput(f"teams takes at most {flt.MAX_IN_VALUES} team ids", field="teams")
            node = flt.all_of(node, flt.Condition("in", flt.FIELDS["teams"], tuple(wanted)))
        check_paging(paging)
        shape, params = repo.filter_template(node)
        keys = tuple(sort) if sort else _DEFAULT_SORT
        statements = self._list_statements(principal, shape, keys, count_up_to=count_up_to, wire=wire)
        offset = (paging.page - 1) * paging.page_size
        limit = paging.page_size
        if paging.cap is not None:
            limit = max(0, min(limit, paging.cap - offset))
        params["ws"] = principal.workspace_id
        with self.store.read() as conn:
            rows: Sequence[Any] = []
            if limit:
                rows = statements.rows(conn, {**params, repo.PAGE_LIMIT: limit, repo.PAGE_OFFSET: offset})
            if rows:
                total = int(rows[0][-1])
            elif offset == 0 and limit:
                total = 0  # an empty first page: nothing matches
            else:
                total = statements.total(conn, params)
            total_pages = check_page(paging, total)
            items = self.entities(conn, rows, principal, wire=wire)
        return PageResult(
            items=items,
            count=total,
            page=paging.page,
            page_size=paging.page_size,
            total_pages=total_pages,
        )

    def _list_statements(
        self,
        principal: Principal,
        shape: flt.Filter | None,
        keys: tuple[flt.SortKey, ...],
        *,
        count_up_to: int | None,
        wire: bool,
    ) -> repo.ListStatements:
        """The statements of a list, built once per caller scope and filter shape (run with
        ``{"ws": workspace id}`` and the shape's values bound)."""
        dialect = self.store.dialect
        # A path sort orders a row under a hidden ancestor by its own title: the statement
        # carries the caller's own hidden-ancestor test, so it is never shared across callers.
        sorts_by_path = any(key.field.name in flt.PATH_FIELDS for key in keys)

        def build(visible: ColumnElement[bool]) -> repo.ListStatements:
            where = visible
            if shape is not None:
                # The filter first: SQLite tests the terms an index does not consume in the order
                # they are written, and the filter (a type, a substring) usually rules out most
                # entries before the team-set probe of the visibility rule has to run.
                where = and_(repo.compile_filter(shape, bindparam("ws"), dialect), where)
            return repo.list_statements(
                where,
                shape,
                keys,
                dialect,
                wire=wire,
                count_up_to=count_up_to,
                path_hidden=visibility.under_hidden_ancestor(principal) if sorts_by_path else None,
            )

        return visibility.statement_for(
            principal,
            ("list", dialect, shape, keys, count_up_to, wire),
            build,
            include_archived=flt.mentions(shape, "archived"),
            include_stale=flt.mentions(shape, "stale"),
            path_filter=any(flt.mentions(shape, name) for name in flt.PATH_FIELDS),
            scoped=sorts_by_path,
        )

    def ancestors(self, principal: Principal, resource_id: str) -> builtins.list[dict[str, Any]]:
        """The parent chain of a visible resource, root first, as far up as the caller may see.

        A parent the caller may not see (a draft, for a viewer) ends the chain there, so a
        breadcrumb never names what a list would hide.
        """
        chain: builtins.list[dict[str, Any]] = []
        permissions = principal.permissions()
        with self.store.read() as conn:
            row = self._visible_row(conn, principal, resource_id, None)
            seen = {row.id}
            parent_id = row.parent_id
            while parent_id is not None and parent_id not in seen and len(chain) < 64:
                parent = visibility.visible_row(conn, principal, parent_id)
                if parent is None:
                    break
                chain.append(repo.to_entity(parent, permissions))
                seen.add(parent.id)
                parent_id = parent.parent_id
            visibility.redact(conn, principal, chain)
        chain.reverse()
        return chain

    def type_counts(self, principal: Principal, filter_node: flt.Filter | None = None) -> dict[str, int]:
        """How many visible resources of each entity type match a filter (for facets)."""
        where = self.visibility(principal, filter_node)
        if filter_node is not None:
            where = and_(where, repo.compile_filter(filter_node, principal.workspace_id, self.store.dialect))
        with self.store.read() as conn:
            return repo.count_by(conn, where, resource.c.entity_type)

    # ---- writes ------------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        body: ResourceWrite,
        *,
        entity_type: str | None = None,
        resource_id: str | None = None,
    ) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            row = self.create_in(conn, principal, body, entity_type=entity_type, resource_id=resource_id)
            return self.entity(conn, row, principal)

    def create_in(
        self,
        conn: Connection,
        principal: Principal,
        body: ResourceWrite,
        *,
        entity_type: str | None = None,
        resource_id: str | None = None,
        collection_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create inside an open write transaction (bulk paths share one transaction)."""
        ws = principal.workspace_id
        kind = self.requested_type(body, entity_type)
        parent = None
        if body.parent is not None:
            row = _valid_id(body.parent) and repo.get_row(conn, ws, body.parent)
            if not row or not visibility.visible_ids(
                conn, principal, [row.id], include_archived=True, include_stale=True
            ):
                raise InvalidInput(f"parent {body.parent} does not exist", field="parent")
            parent = ParentInfo.of(row)
        if body.integration is not None:
            _require_integration(conn, ws, body.integration)
        if resource_id is not None and repo.get_row(conn, ws, resource_id) is not None:
            raise InvalidInput(f"a resource with id {resource_id} already exists", field="id")
        self._check_collections(conn, ws, body.collections)
        check_tags(conn, ws, body.tags)
        values = self.new_row(ws, body, kind, parent, resource_id=resource_id)
        repo.insert_rows(conn, [values])
        if not values["archived"]:
            repo.bump_children(conn, ws, values["parent_id"], +1)
        if kind == "collection":
            collections.attach(
                conn, ws, values, **{k: v for k, v in (collection_fields or {}).items() if v is not None}
            )
        history.record(
            conn,
            principal,
            resource_id=values["id"],
            event="created",
            before=None,
            after=repo.to_entity(values, {}),
        )
        audit.record(
            conn,
            principal,
            event="created",
            resource_type=kind,
            resource_id=values["id"],
            resource_title=values["title"],
        )
        return values

    @staticmethod
    def requested_type(body: ResourceWrite, entity_type: str | None) -> str:
        requested = entity_type or body.entity_type
        if not requested:
            raise InvalidInput("entity_type is required", field="entity_type")
        return canonical_type(requested)

    @staticmethod
    def new_row(
        workspace_id: str,
        body: ResourceWrite,
        kind: str,
        parent: ParentInfo | None,
        *,
        resource_id: str | None = None,
        timestamps: dict[str, datetime | None] | None = None,
    ) -> dict[str, Any]:
        """The stored row for a new resource, after the hierarchy rules hold."""
        values = ResourceService.unplaced_row(
            workspace_id, body, kind, resource_id=resource_id, timestamps=timestamps
        )
        place = placement(kind, body.title or "", parent, body.integration, body.search_metadata)
        values.update(place._asdict())
        return values

    @staticmethod
    def unplaced_row(
        workspace_id: str,
        body: ResourceWrite,
        kind: str,
        *,
        resource_id: str | None = None,
        timestamps: dict[str, datetime | None] | None = None,
    ) -> dict[str, Any]:
        """A new row without what depends on its parent (``placement``): bulk imports build
        it in worker processes and place it once the parent is known."""
        if not body.title:
            raise InvalidInput("title is required", field="title")
        now = utc_now()
        stamps = timestamps or {}
        values: dict[str, Any] = {
            "workspace_id": workspace_id,
            "id": resource_id or str(uuid.uuid4()),
            "entity_type": kind,
            "title": body.title,
            "title_cased": camel_case(body.title),
            "definition": body.definition,
            "definition_version": 1,
            "children_count": 0,
            "archived": bool(body.archived),
            "archived_at": stamps.get("archived_at") or (now if body.archived else None),
            "stale": bool(body.stale),
            "stale_at": stamps.get("stale_at") or (now if body.stale else None),
            "multiplayer_last_modified_by": None,
            "multiplayer_last_modified": stamps.get("multiplayer_last_modified"),
            "created_at": stamps.get("created_at") or now,
            "updated_at": stamps.get("updated_at") or now,
        }
        for name in _DIRECT_FIELDS:
            values[name] = getattr(body, name)
        for name in ("pii", "verified", "published", "forced_unstale_by_user"):
            values[name] = bool(values[name])
        for name in ("internal_usage", "external_usage"):
            values[name] = values[name] or 0
        values["display_metadata"] = values["display_metadata"] or {}
        for name in LIST_FIELDS:
            items = getattr(body, name)
            values[name] = list(dict.fromkeys(items)) if items else []
        return values

    def update(
        self,
        principal: Principal,
        resource_id: str,
        body: ResourceWrite,
        *,
        entity_type: str | None = None,
        allow_type_change: bool = True,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        principal.require_write()
        with self.store.write() as conn:
            row = self.update_in(
                conn,
                principal,
                resource_id,
                body,
                entity_type=entity_type,
                allow_type_change=allow_type_change,
                if_match=if_match,
            )
            fresh = repo.get_row(conn, principal.workspace_id, row.id)
            assert fresh is not None
            return self.entity(conn, fresh, principal)

    def update_in(
        self,
        conn: Connection,
        principal: Principal,
        resource_id: str,
        body: ResourceWrite,
        *,
        entity_type: str | None = None,
        allow_type_change: bool = True,
        if_match: str | None = None,
        event: str = "updated",
    ) -> Row[Any]:
        ws = principal.workspace_id
        row = _valid_id(resource_id) and repo.get_row(conn, ws, resource_id, for_update=True)
        if not row or (entity_type is not None and row.entity_type != entity_type):
            raise NotFound("Not found.")
        visibility.require_visible(conn, principal, row.pk, include_archived=True, include_stale=True)
        if if_match is not None and not repo.etag_matches(row, if_match):
            raise PreconditionFailed(
                "The resource changed since you read it (If-Match does not match its ETag)."
            )
        sent = body.model_fields_set
        now = utc_now()
        values: dict[str, Any] = {}
        for name in _DIRECT_FIELDS:
            if name in sent:
                value = getattr(body, name)
                if value is None and not resource.c[name].nullable:
                    raise InvalidInput(f"{name} cannot be null", field=name)
                values[name] = value
        for name in LIST_FIELDS:
            if name in sent:
                values[name] = list(dict.fromkeys(getattr(body, name) or []))
        if "collections" in sent:
            self._check_collections(conn, ws, body.collections)
        if "tags" in sent:
            check_tags(conn, ws, body.tags)
        if "definition" in sent and body.definition != row.definition:
            values["definition"] = body.definition
            values["definition_version"] = resource.c.definition_version + 1
        for flag in ("archived", "stale"):
            if flag in sent:
                value = getattr(body, flag)
                if value is None:
                    raise InvalidInput(f"{flag} cannot be null", field=flag)
                if value != getattr(row, flag):
                    values[flag] = value
                    values[f"{flag}_at"] = now if value else None
        if "integration" in sent:
            if body.integration is None:
                if row.entity_type in INTEGRATION_REQUIRED:
                    raise InvalidInput(
                        f"a {row.entity_type} must belong to an integration", field="integration"
                    )
            else:
                _require_integration(conn, ws, body.integration)
            values["integration_id"] = body.integration

        kind = row.entity_type
        if allow_type_change and "entity_type" in sent and body.entity_type is not None:
            kind = canonical_type(body.entity_type)
            if kind != row.entity_type and "collection" in (kind, row.entity_type):
                raise InvalidInput(
                    "a collection cannot change type, nor can a resource become one", field="entity_type"
                )
            if kind != row.entity_type:
                if row.children_count:
                    raise InvalidInput(
                        "cannot change the type of a resource that has children", field="entity_type"
                    )
                values["entity_type"] = kind

        parent_row = None
        parent_changed = "parent" in sent and body.parent != row.parent_id
        if parent_changed and body.parent is not None:
            parent_row = _valid_id(body.parent) and repo.get_row(conn, ws, body.parent)
            if not parent_row:
                raise InvalidInput(f"parent {body.parent} does not exist", field="parent")
            if parent_row.id == row.id or any(
                d.id == parent_row.id for d in repo.descendants(conn, ws, row.id)
            ):
                raise InvalidInput("a resource cannot be moved under itself", field="parent")
        elif not parent_changed and row.parent_id is not None:
            parent_row = repo.get_row(conn, ws, row.parent_id)
        if parent_changed or kind != row.entity_type:
            check_parent(kind, parent_row.entity_type if parent_row else None)

        new_title = row.title
        if "title" in sent:
            if not body.title:
                raise InvalidInput("title cannot be empty", field="title")
            new_title = body.title
        reshaped = (
            parent_changed or new_title != row.title or kind != row.entity_type or "search_metadata" in sent
        )
        if reshaped:
            own_metadata = body.search_metadata if "search_metadata" in sent else row.search_metadata
            values.update(_titled(kind, new_title, parent_row or None, own_metadata))
        if parent_changed:
            values["parent_id"] = body.parent
        if values:
            values["updated_at"] = now
            repo.update_row(conn, row.pk, ws, values)
        visible_before = not row.archived
        visible_after = not values.get("archived", row.archived)
        if parent_changed:
            repo.bump_children(conn, ws, row.parent_id, -1 if visible_before else 0)
            repo.bump_children(conn, ws, body.parent, +1 if visible_after else 0)
        elif visible_before != visible_after:
            repo.bump_children(conn, ws, row.parent_id, +1 if visible_after else -1)
        if reshaped:
            self._refresh_subtree(conn, ws, row.id, values["title_full"], values["search_metadata"])
        if values:
            fresh = repo.get_row(conn, ws, row.id)
            history.record(
                conn,
                principal,
                resource_id=row.id,
                event=event,
                before=repo.to_entity(row, {}),
                after=repo.to_entity(fresh, {}) if fresh is not None else None,
            )
            audit.record(
                conn,
                principal,
                event=event,
                resource_type=values.get("entity_type", row.entity_type),
                resource_id=row.id,
                resource_title=values.get("title", row.title),
                details={"fields": sorted(k for k in sent if k in values or k in ("parent", "integration"))},
            )
        return row

    def retitle_in(
        self, conn: Connection, principal: Principal, titles: dict[str, str], *, entity_type: str
    ) -> None:
        """``update_in`` with only a new title, for many resources of one type at once (a
        Kontent.ai PATCH renames dozens of collections): the same columns, history version and
        audit event per resource, in a handful of statements instead of ten per resource.

        Resources with children go through ``update_in`` after the others, so its subtree
        refresh sees every new title."""
        ws = principal.workspace_id
        rows = _retitle_targets(conn, principal, list(titles))
        for resource_id, title in titles.items():
            row = rows.get(resource_id)
            if row is None or row.entity_type != entity_type:
                raise NotFound("Not found.")
            if not title:
                raise InvalidInput("title cannot be empty", field="title")
        with_children = [i for i in titles if rows[i].has_children]
        leaves = [
            rows[i] for i, title in titles.items() if not rows[i].has_children and title != rows[i].title
        ]
        parents = repo.get_rows(conn, ws, {r.parent_id for r in leaves if r.parent_id is not None})
        now = utc_now()
        changes: builtins.list[dict[str, Any]] = []
        versions: builtins.list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for row in leaves:
            values = _titled(
                row.entity_type, titles[row.id], parents.get(row.parent_id or ""), row.search_metadata
            )
            values["updated_at"] = now
            changes.append({**values, "row_pk": row.pk})
            before = repo.to_entity(row, {})
            # The other columns set here (title_full, title_cased, search_metadata, updated_at)
            # are derived, not tracked: the version's entity is the old one with what changed
            # among the tracked fields, without decoding the row a second time.
            tracked = {k: v for k, v in values.items() if k in history.TRACKED_FIELDS}
            versions.append((row.id, before, {**before, **tracked}))
        repo.update_rows(conn, changes)
        history.record_updates(conn, principal, versions)
        audit.record_many(
            conn,
            principal,
            event="updated",
            events=[(r.entity_type, r.id, titles[r.id], {"fields": ["title"]}) for r in leaves],
        )
        for resource_id in with_children:
            self.update_in(
                conn,
                principal,
                resource_id,
                ResourceWrite(title=titles[resource_id]),
                entity_type=entity_type,
            )

    def bulk_update(self, principal: Principal, items: Sequence[BulkUpdateItem]) -> builtins.list[str]:
        principal.require_write()
        if len(items) > MAX_BULK:
            raise InvalidInput(f"bulk_update takes at most {MAX_BULK} items, got {len(items)}", field="body")
        updated: builtins.list[str] = []
        with self.store.write() as conn:
            for index, item in enumerate(items):
                try:
                    self.update_in(conn, principal, item.id, item.data)
                except (InvalidInput, NotFound) as exc:
                    field = f"[{index}].data.{exc.field}" if exc.field else f"[{index}].id"
                    raise InvalidInput(f"item {index} ({item.id}): {exc.message}", field=field) from exc
                updated.append(item.id)
        return updated

    def delete(self, principal: Principal, resource_id: str, *, entity_type: str | None = None) -> None:
        principal.require_write()
        with self.store.write() as conn:
            self.delete_in(conn, principal, resource_id, entity_type=entity_type)

    def delete_in(
        self, conn: Connection, principal: Principal, resource_id: str, *, entity_type: str | None = None
    ) -> None:
        """Soft delete: the resource (and a warehouse subtree) is archived and can be restored.

        Collections are the exception: deleting one unlinks its members and removes it for good
        (DECISIONS.md), since a collection is a grouping, not catalog content.
        """
        ws = principal.workspace_id
        row = _valid_id(resource_id) and repo.get_row(conn, ws, resource_id, for_update=True)
        if not row or row.archived or (entity_type is not None and row.entity_type != entity_type):
            raise NotFound("Not found.")
        visibility.require_visible(conn, principal, row.pk, include_stale=True)
        if row.entity_type == "collection" and row.id == collections.DEFAULT_COLLECTION_ID:
            raise InvalidInput("the Default collection cannot be removed", field="id")
        history.record(
            conn, principal, resource_id=row.id, event="deleted", before=repo.to_entity(row, {}), after=None
        )
        audit.record(
            conn,
            principal,
            event="deleted",
            resource_type=row.entity_type,
            resource_id=row.id,
            resource_title=row.title,
        )
        repo.bump_children(conn, ws, row.parent_id, -1)
        if row.entity_type == "collection":
            self._remove_collection(conn, ws, row)
            return
        pks = [row.pk]
        if row.entity_type in CASCADE_DELETE:
            pks += [d.pk for d in repo.descendants(conn, ws, row.id)]
        repo.set_archived(conn, pks, archived_at=utc_now())

    def _remove_collection(self, conn: Connection, workspace_id: str, row: Row[Any]) -> None:
        children = conn.execute(
            select(resource.c.pk, resource.c.id, resource.c.title, resource.c.search_metadata).where(
                resource.c.workspace_id == workspace_id, resource.c.parent_id == row.id
            )
        ).all()
        for child in children:
            metadata = dict((child.search_metadata or {}).items())
            repo.update_row(
                conn,
                child.pk,
                workspace_id,
                {"parent_id": None, "title_full": child.title, "search_metadata": metadata},
            )
            self._refresh_subtree(conn, workspace_id, child.id, child.title, metadata)
        self.unlink_collection(conn, workspace_id, row.id)
        repo.delete_pks(conn, [row.pk])

    def restore(self, principal: Principal, resource_id: str) -> dict[str, Any]:
        """Undo a delete: the resource and what was archived with it come back, links intact."""
        principal.require_write()
        ws = principal.workspace_id
        with self.store.write() as conn:
            row = _valid_id(resource_id) and repo.get_row(conn, ws, resource_id, for_update=True)
            if not row:
                raise NotFound("Not found.")
            visibility.require_visible(conn, principal, row.pk, include_archived=True, include_stale=True)
            if not row.archived:
                raise InvalidInput("the resource is not deleted", field="archived")
            if row.parent_id is not None:
                parent = repo.get_row(conn, ws, row.parent_id)
                if parent is not None and parent.archived:
                    raise InvalidInput("its parent is deleted too: restore the parent first", field="parent")
            pks = [row.pk]
            if row.entity_type in CASCADE_DELETE and row.archived_at is not None:
                pks += [
                    d.pk
                    for d in repo.descendants(conn, ws, row.id)
                    if d.archived
                    and d.archived_at is not None
                    and _utc(d.archived_at) >= _utc(row.archived_at)
                ]
            repo.set_archived(conn, pks, archived_at=None)
            repo.bump_children(conn, ws, row.parent_id, +1)
            fresh = repo.get_row(conn, ws, row.id)
            assert fresh is not None
            history.record(
                conn,
                principal,
                resource_id=row.id,
                event="restored",
                before=repo.to_entity(row, {}),
                after=repo.to_entity(fresh, {}),
            )
            audit.record(
                conn,
                principal,
                event="restored",
                resource_type=row.entity_type,
                resource_id=row.id,
                resource_title=row.title,
            )
            return self.entity(conn, fresh, principal)

    def purge(self, principal: Principal, *, archived_before: datetime) -> int:
        """Remove for good what was deleted (archived) before a time; returns rows removed."""
        principal.require_admin()
        ws = principal.workspace_id
        with self.store.write() as conn:
            roots = conn.execute(
                select(resource.c.pk, resource.c.id).where(
                    resource.c.workspace_id == ws,
                    resource.c.archived.is_(True),
                    resource.c.archived_at < archived_before,
                )
            ).all()
            doomed: set[int] = set()
            for root in roots:
                if root.pk in doomed:
                    continue
                doomed.add(root.pk)
                doomed.update(d.pk for d in repo.descendants(conn, ws, root.id))
            repo.delete_pks(conn, sorted(doomed))
            audit.record(
                conn,
                principal,
                event="purged",
                resource_type="resource",
                resource_id=None,
                details={"count": len(doomed), "archived_before": archived_before.isoformat()},
            )
            return len(doomed)

    def unlink_collection(self, conn: Connection, workspace_id: str, collection_id: str) -> None:
        """Deleting a collection never deletes its members; it drops them from the list."""
        for pk in repo.member_pks(conn, workspace_id, "collections", collection_id):
            current = conn.execute(select(resource.c.collections).where(resource.c.pk == pk)).scalar_one()
            remaining = [c for c in current if c != collection_id]
            repo.update_row(conn, pk, workspace_id, {"collections": remaining, "updated_at": utc_now()})

    # ---- history -----------------------------------------------------------------------

    def history(self, principal: Principal, resource_id: str, paging: PageRequest) -> PageResult:
        with self.store.read() as conn:
            self._visible_row(conn, principal, resource_id, None)
            total = history.count(conn, principal.workspace_id, resource_id)
            total_pages = check_page(paging, total)
            items = history.versions(
                conn,
                principal.workspace_id,
                resource_id,
                limit=paging.page_size,
                offset=(paging.page - 1) * paging.page_size,
            )
            visibility.redact_history(conn, principal, items)
        return PageResult(items, total, paging.page, paging.page_size, total_pages)

    def restore_version(self, principal: Principal, resource_id: str, version: int) -> dict[str, Any]:
        """Bring back every tracked field as it was right after ``version``; itself a new version."""
        principal.require_write()
        with self.store.write() as conn:
            snap = _valid_id(resource_id) and history.snapshot_of(
                conn, principal.workspace_id, resource_id, version
            )
            if not snap:
                raise NotFound(f"version {version} of resource {resource_id} does not exist")
            body = ResourceWrite.model_validate(snap)
            self.update_in(conn, principal, resource_id, body, event="restored")
            fresh = repo.get_row(conn, principal.workspace_id, resource_id)
            assert fresh is not None
            return self.entity(conn, fresh, principal)

    # ---- helpers -----------------------------------------------------------------------

    def _check_collections(self, conn: Connection, workspace_id: str, ids: builtins.list[str] | None) -> None:
        if not ids:
            return
        found = repo.existing_ids(conn, workspace_id, ids, entity_type="collection")
        missing = [i for i in ids if i not in found]
        if missing:
            raise InvalidInput(f"collection {missing[0]} does not exist", field="collections")

    def _refresh_subtree(
        self, conn: Connection, workspace_id: str, root_id: str, root_full: str, root_metadata: dict[str, Any]
    ) -> None:
        """Recompute ``title_full`` and ``search_metadata`` below a changed resource."""
        known: dict[str, tuple[str, dict[str, Any]]] = {root_id: (root_full, root_metadata)}
        for node in repo.descendants(conn, workspace_id, root_id):
            parent_full, parent_metadata = known[node.parent_id]
            full = title_full(node.title or "", parent_full)
            metadata = derive_search_metadata(
                node.entity_type, node.title or "", parent_metadata, node.search_metadata
            )
            known[node.id] = (full, metadata)
            repo.update_row(conn, node.pk, workspace_id, {"title_full": full, "search_metadata": metadata})


def _wire_row(visible: ColumnElement[bool], dialect: str) -> Prepared:
    """One resource by ``:rid`` in the wire form, if the caller may see it (``visible_row``'s rule)."""
    return Prepared(select(*repo.wire_columns(dialect)).where(visible, resource.c.id == bindparam("rid")))


def _retitle_statement(visible: Any) -> Any:
    r, child = resource.c, resource.alias("child")
    has_children = (
        select(child.c.pk).where(child.c.workspace_id == r.workspace_id, child.c.parent_id == r.id).exists()
    )
    return (
        select(resource, has_children.label("has_children"))
        .where(visible, r.id.in_(bindparam("ids", expanding=True)))
        .with_for_update(of=resource)
    )


def _retitle_targets(conn: Connection, principal: Principal, ids: builtins.list[str]) -> dict[str, Row[Any]]:
    """The rows of ``ids`` the caller may see (archived and stale ones too), write-locked, each
    with ``has_children`` (archived children count): one statement, built once, instead of a
    read, a visibility check and a children lookup."""
    stmt = visibility.statement_for(
        principal, "retitle_targets", _retitle_statement, include_archived=True, include_stale=True
    )
    found: dict[str, Row[Any]] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), 500):
        params = {"ws": principal.workspace_id, "ids": wanted[start : start + 500]}
        found.update((row.id, row) for row in conn.execute(stmt, params))
    return found


def _titled(
    kind: str, title: str, parent: Row[Any] | None, own_metadata: dict[str, Any] | None
) -> dict[str, Any]:
    """The columns that follow from a resource's title and where it sits."""
    return {
        "title": title,
        "title_cased": camel_case(title),
        "title_full": title_full(title, parent.title_full if parent else None),
        "search_metadata": derive_search_metadata(
            kind, title, parent.search_metadata if parent else None, own_metadata
        ),
    }


class Placement(NamedTuple):
    """The columns of a new row that come from where it sits in the hierarchy."""

    parent_id: str | None
    integration_id: str | None
    title_full: str
    search_metadata: dict[str, Any]


def placement(
    kind: str,
    title: str,
    parent: ParentInfo | None,
    integration_id: str | None,
    own_metadata: dict[str, Any] | None,
) -> Placement:
    """Check that ``kind`` may sit under ``parent`` and derive what it inherits from it."""
    check_parent(kind, parent.entity_type if parent else None)
    integration_id = integration_id or (parent.integration_id if parent else None)
    if integration_id is None and kind in INTEGRATION_REQUIRED:
        raise InvalidInput(f"a {kind} must belong to an integration", field="integration")
    return Placement(
        parent.id if parent else None,
        integration_id,
        title_full(title, parent.title_full if parent else None),
        derive_search_metadata(kind, title, parent.search_metadata if parent else None, own_metadata),
    )


def check_tags(conn: Connection, workspace_id: str, ids: builtins.list[str] | None) -> None:
    """A resource's ``tags`` hold ids of the workspace's label tags (``/tag/tags``)."""
    if not ids:
        return
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    valid = [i for i in wanted if _valid_id(i)]
    for start in range(0, len(valid), 500):
        chunk = valid[start : start + 500]
        found.update(
            conn.execute(
                select(tag.c.id).where(tag.c.workspace_id == workspace_id, tag.c.id.in_(chunk))
            ).scalars()
        )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(f"tag {missing[0]} does not exist", field="tags")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# The canonical text form, which is nearly every id: checked without building a UUID (5 us a
# call, and a bulk import checks every line's id).
_CANONICAL_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _valid_id(value: str) -> bool:
    """Malformed ids are simply not found (never a database error)."""
    if isinstance(value, str) and _CANONICAL_ID.fullmatch(value):
        return True
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value) == 36


def _require_integration(conn: Connection, workspace_id: str, integration_id: str) -> None:
    exists = (
        _valid_id(integration_id)
        and conn.execute(
            select(integration.c.pk).where(
                integration.c.workspace_id == workspace_id, integration.c.id == integration_id
            )
        ).first()
    )
    if not exists:
        raise InvalidInput(f"integration {integration_id} does not exist", field="integration")
