"""Collections: one store behind every face (Secoda, legacy /tag/, Kontent.ai, DataForce).

A collection is a catalog resource (``entity_type`` collection; its ``title`` is the name) plus
a row of collection-only fields: a codename and an optional external id (unique in the
workspace, fixed after creation), a position in the workspace order, a type and labels.
Members are resources whose ``collections`` list holds the collection's id.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from cairn.core import visibility
from cairn.core.errors import Conflict, InvalidInput, NotFound
from cairn.core.principal import Principal
from cairn.models.common import iso, utc_now
from cairn.models.resources import ResourceWrite
from cairn.store import Store
from cairn.store import resources as repo
from cairn.store.schema import collection, resource, resource_member, workspace, workspace_state

DEFAULT_COLLECTION_ID = "00000000-0000-0000-0000-000000000000"
NAME_MAX = 200
CODENAME_MAX = 210
CODENAME_PATTERN = re.compile(r"^[a-z0-9_]{1,210}$")
FORBIDDEN_EXTERNAL_ID = re.compile(r"[/.;]")
C = collection.c
R = resource.c
MAX_MEMBER_CHANGE = 500  # resources per add/remove request: one transaction, one history row each


def codename_from(name: str) -> str:
    """``"US branch"`` -> ``us_branch``: lowercase, runs of other characters become ``_``."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return (base or "collection")[: CODENAME_MAX - 8]


def check_name(name: Any, *, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name must be a non-empty string", field=field)
    if len(name) > NAME_MAX:
        raise InvalidInput(f"name must be at most {NAME_MAX} characters", field=field)
    return name


def check_codename(codename: Any) -> str:
    if not isinstance(codename, str) or not CODENAME_PATTERN.match(codename):
        raise InvalidInput(
            f"codename must be 1-{CODENAME_MAX} characters of lowercase letters, digits and underscores",
            field="codename",
        )
    return codename


def check_external_id(external_id: Any) -> str:
    if not isinstance(external_id, str) or not external_id or len(external_id) > 255:
        raise InvalidInput(
            "external_id must be a non-empty string of at most 255 characters", field="external_id"
        )
    if FORBIDDEN_EXTERNAL_ID.search(external_id) or "\x00" in external_id:
        raise InvalidInput("external_id must not contain '/', '.' or ';'", field="external_id")
    return external_id


@dataclass
class CollectionRecord:
    """A collection as every face sees it."""

    pk: int
    id: str
    workspace_id: str
    name: str
    codename: str
    external_id: str | None
    position: int
    description: str | None
    icon: str | None
    collection_type: str | None
    labels: list[str]
    published: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CollectionListing:
    """The workspace's collections in order, and when they last changed (Kontent.ai's listing)."""

    collections: list[CollectionRecord]
    last_modified: datetime | None


def _record(row: Sequence[Any]) -> CollectionRecord:
    # Unpacked by position (``_RECORD_COLUMNS`` order): attribute access by name on each of a
    # hundred rows was a visible part of a Kontent.ai PATCH.
    (pk, id_, ws, name, description, icon, published, created, updated, codename, external_id,
     position, collection_type, labels) = row  # fmt: skip
    return CollectionRecord(
        pk=pk,
        id=id_,
        workspace_id=ws,
        name=name,
        codename=codename,
        external_id=external_id,
        position=position,
        description=description,
        icon=icon,
        collection_type=collection_type,
        labels=list(labels or []),
        published=published,
        created_at=created,
        updated_at=updated,
    )


# What a ``CollectionRecord`` reads: decoding the resource row's dozen JSON columns for every
# collection cost more than the query (a Kontent.ai PATCH reads the whole workspace).
_RECORD_COLUMNS = (
    R.pk,
    R.id,
    R.workspace_id,
    R.title,
    R.description,
    R.icon,
    R.published,
    R.created_at,
    R.updated_at,
    C.codename,
    C.external_id,
    C.position,
    C.collection_type,
    C.labels,
)
_ORDER = (C.position, R.id)
Lookup = Literal["all", "name", "id", "name_and_id"]


def _collections_statement(principal: Principal, lookup: Lookup) -> Any:
    """Collections the caller may see, in workspace order, all of them or by ``:name`` and/or
    ``:rid``; parameters ``{"ws": workspace id, ...}``. Read from the collection table first:
    without the workspace condition on it SQLite walked every resource of the workspace (a
    million in a large catalog) to find the hundred that are collections."""

    def build(visible: Any) -> Any:
        stmt = (
            select(*_RECORD_COLUMNS)
            .join(collection, C.resource_pk == R.pk)
            .where(C.workspace_id == bindparam("ws"), R.entity_type == "collection", visible)
        )
        if lookup in ("name", "name_and_id"):
            stmt = stmt.where(R.title == bindparam("name"))
        if lookup in ("id", "name_and_id"):
            stmt = stmt.where(R.id == bindparam("rid"))
        return stmt.order_by(*_ORDER)

    return visibility.statement_for(principal, ("collections", lookup), build)


def _members_statement(principal: Principal) -> Any:
    """Member (collection id, member id, member type) rows of ``:ids``, members the caller may see."""
    member = resource_member.c

    def build(visible: Any) -> Any:
        return (
            select(member.value, R.id, R.entity_type)
            .join(resource, R.pk == member.resource_pk)
            .where(
                member.workspace_id == bindparam("ws"),
                member.field == "collections",
                member.value.in_(bindparam("ids", expanding=True)),
                visible,
            )
            .order_by(R.pk)
        )

    return visibility.statement_for(principal, "collection_members", build)


def attach(
    conn: Connection,
    workspace_id: str,
    row: dict[str, Any],
    *,
    codename: str | None = None,
    external_id: str | None = None,
    collection_type: str | None = None,
    labels: list[str] | None = None,
    position: int | None = None,
    record_change: bool = True,
) -> None:
    """Give a freshly inserted collection resource its collection row (every create path)."""
    if codename is None:
        codename = _free_codename(conn, workspace_id, codename_from(row["title"] or "collection"))
    else:
        check_codename(codename)
        if _codename_taken(conn, workspace_id, codename):
            raise InvalidInput(f"codename '{codename}' is already used", field="codename")
    if external_id is not None:
        check_external_id(external_id)
        taken = conn.execute(
            select(C.resource_pk).where(C.workspace_id == workspace_id, C.external_id == external_id)
        ).first()
        if taken:
            raise InvalidInput(f"external_id '{external_id}' is already used", field="external_id")
    if position is None:
        position = _next_position(conn, workspace_id)
    try:
        with conn.begin_nested():
            conn.execute(
                collection.insert().values(
                    resource_pk=row["pk"],
                    workspace_id=workspace_id,
                    codename=codename,
                    external_id=external_id,
                    position=position,
                    collection_type=collection_type,
                    labels=labels or [],
                )
            )
    except IntegrityError as exc:
        raise Conflict("codename or external_id is already used", field="codename") from exc
    if record_change:
        touch(conn, workspace_id)


def _codename_taken(conn: Connection, workspace_id: str, codename: str) -> bool:
    stmt = select(C.resource_pk).where(C.workspace_id == workspace_id, C.codename == codename)
    return conn.execute(stmt).first() is not None


def _free_codename(conn: Connection, workspace_id: str, base: str) -> str:
    candidate, n = base, 2
    while _codename_taken(conn, workspace_id, candidate):
        candidate = f"{base}_{n}"
        n += 1
    return candidate


def _next_position(conn: Connection, workspace_id: str) -> int:
    current = conn.execute(select(func.max(C.position)).where(C.workspace_id == workspace_id)).scalar_one()
    return int(current if current is not None else -1) + 1


# Built once: every collection write runs these (building a statement cost more than running it).
_TOUCH = (
    update(workspace_state)
    .where(workspace_state.c.workspace_id == bindparam("ws"))
    .values(collections_modified_at=bindparam("at"))
)
_LOCK_WORKSPACE = select(workspace.c.id).where(workspace.c.id == bindparam("ws")).with_for_update()
# A statement per moved row, not one UPDATE with a CASE of them all: building and compiling
# that CASE (a PATCH of 25 moves shifts most of a hundred positions) cost more CPU than it
# saved in round trips on PostgreSQL, and SQLite ran it slower than the executemany.
_MOVE = update(collection).where(C.resource_pk == bindparam("pk")).values(position=bindparam("new_position"))


def touch(conn: Connection, workspace_id: str) -> datetime:
    """Record that the workspace's collections changed (Kontent.ai ``last_modified``)."""
    now = utc_now()
    updated = conn.execute(_TOUCH, {"ws": workspace_id, "at": now})
    if updated.rowcount == 0:
        conn.execute(workspace_state.insert().values(workspace_id=workspace_id, collections_modified_at=now))
    return now


def lock_workspace(conn: Connection, workspace_id: str) -> None:
    """Serialise a workspace's collection writes (SQLite's single writer does this already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_WORKSPACE, {"ws": workspace_id})


def ensure_default(conn: Connection, workspace_id: str, organization_id: str) -> None:
    exists = conn.execute(
        select(R.pk).where(R.workspace_id == workspace_id, R.id == DEFAULT_COLLECTION_ID)
    ).first()
    if exists:
        return
    from cairn.core.resources import ResourceService

    row = ResourceService.new_row(
        workspace_id,
        ResourceWrite(title="Default", published=True),
        "collection",
        None,
        resource_id=DEFAULT_COLLECTION_ID,
    )
    repo.insert_rows(conn, [row])
    # Seeding is not a change: Kontent.ai reports last_modified null until the first one.
    attach(conn, workspace_id, row, codename="default", position=0, record_change=False)


# ---- Kontent.ai-style operations ------------------------------------------------------------

Op = Literal["addInto", "move", "remove", "replace"]


@dataclass(eq=False)
class _Pending:
    """A collection inside a PATCH being applied: existing (``record``) or to be added.

    Compared by identity: moves find and remove items in the order list, and comparing every
    field (the record's too) per item made that most of a large PATCH's Python time.
    """

    name: str
    codename: str
    external_id: str | None
    record: CollectionRecord | None = None
    renamed: bool = False


class _Order:
    """A PATCH's collections in order, with an index of every reference (id, codename,
    external_id) to its item: 50 operations each scanning the list for two references was a
    quarter of the PATCH's Python time."""

    def __init__(self, items: builtins.list[_Pending]) -> None:
        self.items = items
        self._by_ref: dict[tuple[str, str], _Pending] = {}
        for item in items:
            self._index(item)

    @staticmethod
    def _refs(item: _Pending) -> builtins.list[tuple[str, str]]:
        refs = [("codename", item.codename)]
        if item.external_id is not None:
            refs.append(("external_id", item.external_id))
        if item.record is not None:
            refs.append(("id", item.record.id))
        return refs

    def _index(self, item: _Pending) -> None:
        for ref in self._refs(item):
            self._by_ref[ref] = item

    def get(self, key: str, value: str) -> _Pending | None:
        return self._by_ref.get((key, value))

    def insert(self, index: int, item: _Pending) -> None:
        self.items.insert(index, item)
        self._index(item)

    def remove(self, item: _Pending) -> None:
        self.items.remove(item)
        for ref in self._refs(item):
            del self._by_ref[ref]

    def index(self, item: _Pending) -> int:
        return self.items.index(item)


class CollectionService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- reads ---------------------------------------------------------------------------

    def list(
        self, principal: Principal, *, conn: Connection | None = None
    ) -> builtins.list[CollectionRecord]:
        if conn is not None:
            return self._list(conn, principal)
        with self.store.read() as read:
            return self._list(read, principal)

    def find(
        self,
        principal: Principal,
        *,
        name: str | None = None,
        collection_id: str | None = None,
        conn: Connection | None = None,
    ) -> builtins.list[CollectionRecord]:
        """Collections by exact name or id (names are not unique; ids are)."""
        from cairn.core.resources import _valid_id

        if collection_id is not None and not _valid_id(collection_id):
            return []
        if conn is None:
            with self.store.read() as read:
                return self.find(principal, name=name, collection_id=collection_id, conn=read)
        lookup: Lookup = "all"
        if name is not None:
            lookup = "name" if collection_id is None else "name_and_id"
        elif collection_id is not None:
            lookup = "id"
        params = {"ws": principal.workspace_id, "name": name, "rid": collection_id}
        return [_record(r) for r in conn.execute(_collections_statement(principal, lookup), params)]

    def _list(self, conn: Connection, principal: Principal) -> builtins.list[CollectionRecord]:
        rows = conn.execute(_collections_statement(principal, "all"), {"ws": principal.workspace_id})
        return [_record(r) for r in rows]

    def get(self, principal: Principal, collection_id: str) -> CollectionRecord:
        with self.store.read() as conn:
            return self._get(conn, principal, collection_id)

    def _get(self, conn: Connection, principal: Principal, collection_id: str) -> CollectionRecord:
        from cairn.core.resources import _valid_id

        row = _valid_id(collection_id) and (
            conn.execute(
                _collections_statement(principal, "id"), {"ws": principal.workspace_id, "rid": collection_id}
            ).first()
        )
        if not row:
            raise NotFound("Collection not found.")
        return _record(row)

    def last_modified(self, principal: Principal, *, conn: Connection | None = None) -> datetime | None:
        if conn is None:
            with self.store.read() as read:
                return self.last_modified(principal, conn=read)
        value: datetime | None = conn.execute(
            select(workspace_state.c.collections_modified_at).where(
                workspace_state.c.workspace_id == principal.workspace_id
            )
        ).scalar_one_or_none()
        return value

    def members(
        self, principal: Principal, ids: builtins.list[str], *, conn: Connection | None = None
    ) -> dict[str, builtins.list[tuple[str, str]]]:
        """Member (id, entity_type) pairs per collection id, honouring what the caller may see."""
        out: dict[str, builtins.list[tuple[str, str]]] = {i: [] for i in ids}
        if not ids:
            return out
        if conn is None:
            with self.store.read() as read:
                return self.members(principal, ids, conn=read)
        params = {"ws": principal.workspace_id, "ids": ids}
        for value, rid, kind in conn.execute(_members_statement(principal), params):
            out[value].append((rid, kind))
        return out

    # ---- writes --------------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        *,
        name: str,
        description: str | None = None,
        icon: str | None = None,
        codename: str | None = None,
        external_id: str | None = None,
        collection_type: str | None = None,
        labels: builtins.list[str] | None = None,
        published: bool = False,
    ) -> CollectionRecord:
        principal.require_write()
        from cairn.core.resources import ResourceService

        check_name(name)
        with self.store.write() as conn:
            lock_workspace(conn, principal.workspace_id)
            row = ResourceService(self.store).create_in(
                conn,
                principal,
                ResourceWrite(
                    entity_type="collection",
                    title=name,
                    description=description,
                    icon=icon,
                    published=published,
                ),
                collection_fields={
                    "codename": codename,
                    "external_id": external_id,
                    "collection_type": collection_type,
                    "labels": labels,
                },
            )
            return self._get(conn, principal, row["id"])

    def rename(
        self,
        principal: Principal,
        collection_id: str,
        *,
        name: str | None,
        description: str | None,
        description_set: bool,
    ) -> CollectionRecord:
        principal.require_write()
        from cairn.core.resources import ResourceService

        body: dict[str, Any] = {}
        if name is not None:
            body["title"] = check_name(name)
        if description_set:
            body["description"] = description
        with self.store.write() as conn:
            self._get(conn, principal, collection_id)
            if body:
                ResourceService(self.store).update_in(
                    conn,
                    principal,
                    collection_id,
                    ResourceWrite.model_validate(body),
                    entity_type="collection",
                )
                touch(conn, principal.workspace_id)
            return self._get(conn, principal, collection_id)

    def set_details(
        self, principal: Principal, collection_id: str, *, labels: builtins.list[str] | None = None
    ) -> CollectionRecord:
        principal.require_write()
        with self.store.write() as conn:
            record = self._get(conn, principal, collection_id)
            if labels is not None:
                conn.execute(update(collection).where(C.resource_pk == record.pk).values(labels=labels))
                conn.execute(update(resource).where(R.pk == record.pk).values(updated_at=utc_now()))
            return self._get(conn, principal, collection_id)

    def change_members(
        self,
        principal: Principal,
        collection_id: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> int:
        """Put resources into a collection or take them out, all or nothing; returns how many changed.

        Each member change is an ordinary update of the resource's ``collections`` list, so it is
        a version in that resource's history like any other edit.
        """
        principal.require_write()
        from cairn.core.resources import ResourceService, _valid_id

        wanted = list(dict.fromkeys([*add, *remove]))
        if not wanted:
            raise InvalidInput("choose at least one resource", field="resources")
        if len(wanted) > MAX_MEMBER_CHANGE:
            raise InvalidInput(
                f"at most {MAX_MEMBER_CHANGE} resources at a time, got {len(wanted)}", field="resources"
            )
        adding = set(add)
        if adding & set(remove):
            raise InvalidInput("a resource cannot be added and removed at once", field="resources")
        service = ResourceService(self.store)
        changed = 0
        with self.store.write() as conn:
            record = self._get(conn, principal, collection_id)
            for resource_id in wanted:
                row = _valid_id(resource_id) and repo.get_row(
                    conn, principal.workspace_id, resource_id, for_update=True
                )
                if not row or row.archived or (not principal.sees_drafts and not row.published):
                    raise InvalidInput(f"resource {resource_id} does not exist", field="resources")
                if row.id == record.id:
                    raise InvalidInput("a collection cannot be a member of itself", field="resources")
                current = list(row.collections or [])
                if resource_id in adding:
                    updated = current if record.id in current else [*current, record.id]
                else:
                    updated = [c for c in current if c != record.id]
                if updated != current:
                    service.update_in(conn, principal, resource_id, ResourceWrite(collections=updated))
                    changed += 1
        return changed

    def delete(self, principal: Principal, collection_id: str) -> None:
        principal.require_write()
        from cairn.core.resources import ResourceService

        with self.store.write() as conn:
            lock_workspace(conn, principal.workspace_id)
            self._get(conn, principal, collection_id)
            ResourceService(self.store).delete_in(conn, principal, collection_id, entity_type="collection")
            touch(conn, principal.workspace_id)

    def apply_operations(
        self, principal: Principal, operations: builtins.list[dict[str, Any]]
    ) -> CollectionListing:
        """Kontent.ai PATCH: every operation in order, all or nothing; returns the collections as
        this PATCH left them (read in its own transaction, so no later write shows through)."""
        principal.require_write()
        from cairn.core.resources import ResourceService

        resources = ResourceService(self.store)
        with self.store.write() as conn:
            lock_workspace(conn, principal.workspace_id)
            order = _Order(
                [_Pending(r.name, r.codename, r.external_id, record=r) for r in self._list(conn, principal)]
            )
            removed: builtins.list[CollectionRecord] = []
            for index, operation in enumerate(operations):
                where = f"operations[{index}]"
                if not isinstance(operation, dict):
                    raise InvalidInput(f"{where} must be an object", field=where)
                op = operation.get("op")
                if op == "addInto":
                    self._add(order, operation, where)
                elif op == "move":
                    self._move(order, operation, where)
                elif op == "remove":
                    target = self._find(order, operation.get("reference"), f"{where}.reference")
                    if target.record is not None and target.record.id == DEFAULT_COLLECTION_ID:
                        raise InvalidInput(
                            "the Default collection cannot be removed", field=f"{where}.reference"
                        )
                    order.remove(target)
                    if target.record is not None:
                        removed.append(target.record)
                elif op == "replace":
                    if operation.get("property_name") != "name":
                        raise InvalidInput(
                            "replace supports only property_name 'name' (codename and external_id are fixed)",
                            field=f"{where}.property_name",
                        )
                    target = self._find(order, operation.get("reference"), f"{where}.reference")
                    target.name = check_name(operation.get("value"), field=f"{where}.value")
                    target.renamed = True
                else:
                    raise InvalidInput(
                        f"{where}.op must be one of addInto, move, remove, replace", field=f"{where}.op"
                    )
            for record in removed:
                resources.delete_in(conn, principal, record.id, entity_type="collection")
            moved: builtins.list[dict[str, int]] = []
            renamed: dict[str, str] = {}
            for position, item in enumerate(order.items):
                if item.record is None:
                    row = resources.create_in(
                        conn,
                        principal,
                        ResourceWrite(entity_type="collection", title=item.name, published=True),
                        collection_fields={
                            "codename": item.codename,
                            "external_id": item.external_id,
                            "position": position,
                        },
                    )
                    item.record = self._get(conn, principal, row["id"])
                else:
                    # The records were read in this transaction for this PATCH alone: they
                    # become the answer's listing in place.
                    if item.renamed and item.name != item.record.name:
                        renamed[item.record.id] = item.name
                        item.record.name = item.name
                    if item.record.position != position:
                        moved.append({"pk": item.record.pk, "new_position": position})
                        item.record.position = position
            if renamed:
                resources.retitle_in(conn, principal, renamed, entity_type="collection")
            if moved:
                conn.execute(_MOVE, moved)
            last_modified = (
                touch(conn, principal.workspace_id)
                if operations
                else self.last_modified(principal, conn=conn)
            )
            records = [item.record for item in order.items if item.record is not None]
        return CollectionListing(records, last_modified)

    def _add(self, order: _Order, operation: dict[str, Any], where: str) -> None:
        value = operation.get("value")
        if not isinstance(value, dict):
            raise InvalidInput(f"{where}.value must be an object with a name", field=f"{where}.value")
        name = check_name(value.get("name"), field=f"{where}.value.name")
        codename = value.get("codename")
        if codename is not None:
            check_codename(codename)
            if order.get("codename", codename) is not None:
                raise InvalidInput(f"codename '{codename}' is already used", field=f"{where}.value.codename")
        else:
            base = codename_from(name)
            codename, n = base, 2
            while order.get("codename", codename) is not None:
                codename = f"{base}_{n}"
                n += 1
        external_id = value.get("external_id")
        if external_id is not None:
            check_external_id(external_id)
            if order.get("external_id", external_id) is not None:
                raise InvalidInput(
                    f"external_id '{external_id}' is already used", field=f"{where}.value.external_id"
                )
        item = _Pending(name, codename, external_id)
        index = self._anchor(order, operation, where, required=False)
        order.insert(len(order.items) if index is None else index, item)

    def _move(self, order: _Order, operation: dict[str, Any], where: str) -> None:
        target = self._find(order, operation.get("reference"), f"{where}.reference")
        anchor_ref = operation.get("before") or operation.get("after")
        if anchor_ref is not None and self._find(order, anchor_ref, where) is target:
            raise InvalidInput("a collection cannot be moved relative to itself", field=where)
        # Out of the list, still in the index (it cannot be its own anchor, checked above).
        order.items.remove(target)
        index = self._anchor(order, operation, where, required=True)
        assert index is not None
        order.items.insert(index, target)

    def _anchor(self, order: _Order, operation: dict[str, Any], where: str, *, required: bool) -> int | None:
        before, after = operation.get("before"), operation.get("after")
        if before is not None and after is not None:
            raise InvalidInput("'before' and 'after' are mutually exclusive", field=where)
        if before is None and after is None:
            if required:
                raise InvalidInput("move needs 'before' or 'after'", field=where)
            return None
        if before is not None:
            return order.index(self._find(order, before, f"{where}.before"))
        return order.index(self._find(order, after, f"{where}.after")) + 1

    @staticmethod
    def _find(order: _Order, reference: Any, where: str) -> _Pending:
        if not isinstance(reference, dict) or not reference:
            raise InvalidInput(
                f"{where} must be a reference object with id, codename or external_id", field=where
            )
        keys = [k for k in ("id", "codename", "external_id") if reference.get(k) is not None]
        if len(keys) != 1:
            raise InvalidInput(f"{where} must name exactly one of id, codename or external_id", field=where)
        key = keys[0]
        wanted = reference[key]
        found = order.get(key, wanted) if isinstance(wanted, str) else None
        if found is None:
            raise InvalidInput(f"{where}: no collection with {key} '{wanted}'", field=where)
        return found


def kontent_json(record: CollectionRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"id": record.id, "name": record.name, "codename": record.codename}
    if record.external_id is not None:
        body["external_id"] = record.external_id
    return body


def legacy_json(record: CollectionRecord, members: list[tuple[str, str]]) -> dict[str, Any]:
    """The seed-000 ``/tag/`` shape."""
    return {
        "id": record.id,
        "neo4j_id": record.id,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "name": record.name,
        "icon": record.icon,
        "description": record.description,
        "count": len(members),
        "jobs": [rid for rid, kind in members if kind == "job"],
        "tables": [rid for rid, kind in members if kind == "table"],
        "dictionary_terms": [rid for rid, kind in members if kind == "glossary"],
        "badges": [
            {"category": "status", "badge_name": None, "name": "published" if record.published else "draft"}
        ],
        "requests": [],
    }


def dataforce_json(record: CollectionRecord, members: builtins.list[tuple[str, str]]) -> dict[str, Any]:
    """Seed 004's collection: ``total_models`` counts members that are models or datasets."""
    return {
        "id": record.id,
        "orbit_id": record.workspace_id,
        "name": record.name,
        "description": record.description,
        "collection_type": record.collection_type,
        "tags": record.labels,
        "total_models": sum(1 for _, kind in members if kind in ("model", "dataset")),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }
