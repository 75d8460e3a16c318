"""``client.resources``: the catalog (tables, columns, dashboards, documents, ...)."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from cairn.models.resources import BulkUpdateItem, Resource, ResourceVersion, ResourceWrite
from cairn.sdk._crud import body, fetch, pages, remove, send
from cairn.sdk._errors import BadRequestError, InvalidInputError
from cairn.sdk._ops import C, Call, Namespace, Req, endpoint, paginated
from cairn.sdk._pagination import PageQuery, keyset
from cairn.sdk.filters import Expr, Sort, filter_json, sort_json

BULK_BATCH = 100
DEFAULT_PAGE_SIZE = 1000

Update = BulkUpdateItem | tuple[str, Mapping[str, Any]] | Mapping[str, Any]


@dataclass(frozen=True)
class BulkItemResult:
    id: str
    ok: bool
    error: str | None = None


@dataclass
class BulkUpdateResult:
    """Per-item outcome of ``bulk_update``, in the order the updates were given."""

    items: list[BulkItemResult] = field(default_factory=list)

    @property
    def updated(self) -> list[str]:
        return [item.id for item in self.items if item.ok]

    @property
    def failed(self) -> list[BulkItemResult]:
        return [item for item in self.items if not item.ok]

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


_ITEM_FIELD = re.compile(r"^\[(\d+)\]")


def _failed_index(error: BadRequestError, size: int) -> int | None:
    """Which item of a batch the server refused (it names it ``[i]...`` in the error's fields)."""
    fields = error.body.get("fields") if isinstance(error.body, dict) else None
    for key in fields or {}:
        match = _ITEM_FIELD.match(key)
        if match and int(match.group(1)) < size:
            return int(match.group(1))
    return None


def _normalise(update: Update) -> tuple[str, Any]:
    if isinstance(update, BulkUpdateItem):
        return update.id, update.data.model_dump(exclude_unset=True)
    if isinstance(update, tuple):
        return update[0], update[1]
    if isinstance(update, Mapping) and "id" in update:
        return str(update["id"]), update.get("data", {})
    raise InvalidInputError("each update is (id, fields), {'id': ..., 'data': {...}} or a BulkUpdateItem")


class Resources(Namespace[C]):
    """Catalog resources.

    >>> from cairn import F, S
    >>> for table in client.resources.list(filter=(F.type == "table") & F.title.contains("cust")):
    ...     print(table.title_full)
    >>> top = client.resources.list(filter=F.type == "table", sort=S.desc("external_usage")).first()
    >>> orders = client.resources.create(title="orders", entity_type="table", parent=schema_id)
    >>> client.resources.update(orders.id, description="One row per order")
    >>> client.resources.bulk_update([(orders.id, {"verified": True})]).updated
    """

    @paginated
    def list(
        self,
        filter: Expr | dict[str, Any] | None = None,
        sort: Sort | dict[str, Any] | None = None,
        *,
        team: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> PageQuery[Resource]:
        """Every resource matching ``filter``, fetched lazily page by page.

        Without ``sort`` (or ``team``) the walk goes in creation order over keyset pages
        (``/resource/scan``): every page costs the same however deep, and nothing is skipped or
        repeated while others write. With a sort it pages through ``/resource/catalog``, which
        (like Secoda) returns at most 10,000 results across all pages.
        """
        if not 1 <= page_size <= 1000:
            raise InvalidInputError("page_size must be between 1 and 1000")
        params: dict[str, str] = {}
        tree = filter_json(filter)
        if tree is not None:
            params["filter"] = orjson.dumps(tree).decode()
        order = sort_json(sort)
        if order is None and team is None:
            return keyset(Resource, "/resource/scan", params, page_size)
        if order is not None:
            params["sort"] = orjson.dumps(order).decode()
        if team is not None:
            params["teams"] = team
        return pages(Resource, "/resource/catalog", page_size, **params)

    @endpoint
    def get(self, resource_id: str) -> Call[Resource]:
        """One resource by id (``NotFoundError`` when it does not exist or is hidden)."""
        return (yield from fetch(Resource, f"/resource/all/{resource_id}"))

    @endpoint
    def create(
        self, /, data: ResourceWrite | Mapping[str, Any] | None = None, **fields: Any
    ) -> Call[Resource]:
        """Create a resource: ``create(title="orders", entity_type="table", parent=schema_id)``."""
        payload = body(ResourceWrite, data, fields)
        return (yield from send(Resource, "POST", "/resource/catalog", payload))

    @endpoint
    def update(
        self,
        /,
        resource_id: str,
        data: ResourceWrite | Mapping[str, Any] | None = None,
        *,
        if_match: str | None = None,
        **fields: Any,
    ) -> Call[Resource]:
        """Change only the fields given. ``if_match``: an ETag; 412 if the resource changed since."""
        payload = body(ResourceWrite, data, fields)
        if if_match is None:
            return (yield from send(Resource, "PATCH", f"/resource/all/{resource_id}", payload))
        reply = yield Req(
            "PATCH", f"/resource/all/{resource_id}", json=payload, headers={"If-Match": if_match}
        )
        return Resource.model_validate_json(reply.content)

    @endpoint
    def delete(self, resource_id: str) -> Call[None]:
        """Delete (archive) a resource and, for warehouse types, its subtree; ``restore`` undoes it."""
        yield from remove(f"/resource/all/{resource_id}")

    @endpoint
    def restore(self, resource_id: str) -> Call[Resource]:
        """Bring a deleted resource back with its subtree, memberships and lineage."""
        return (yield from send(Resource, "POST", f"/resource/all/{resource_id}/restore", None))

    @paginated
    def history(self, resource_id: str, *, page_size: int = 50) -> PageQuery[ResourceVersion]:
        """Every recorded change of a resource, newest first."""
        return pages(ResourceVersion, f"/resource/all/{resource_id}/history", page_size)

    @endpoint
    def bulk_update(self, updates: Iterable[Update]) -> Call[BulkUpdateResult]:
        """Apply any number of updates, 100 per request, and report each one.

        ``updates``: ``(id, {field: value})`` pairs, ``{"id": ..., "data": {...}}`` dicts or
        ``BulkUpdateItem``. The server applies a batch all or nothing; when it refuses one item,
        that item is reported with the server's reason and the rest of its batch is sent again,
        so every valid update lands.

        >>> result = client.resources.bulk_update((r.id, {"verified": True}) for r in tables)
        >>> result.updated, [(f.id, f.error) for f in result.failed]
        """
        outcome: dict[int, BulkItemResult] = {}
        prepared: builtins.list[tuple[int, str, Any]] = []
        for index, update in enumerate(updates):
            resource_id, data = _normalise(update)
            try:
                prepared.append((index, resource_id, body(ResourceWrite, data, {})))
            except InvalidInputError as exc:
                outcome[index] = BulkItemResult(resource_id, False, str(exc))
        for start in range(0, len(prepared), BULK_BATCH):
            batch = prepared[start : start + BULK_BATCH]
            while batch:
                wire = [{"id": resource_id, "data": data} for _, resource_id, data in batch]
                try:
                    yield Req("POST", "/resource/all/bulk_update", json=wire)
                except BadRequestError as exc:
                    bad = _failed_index(exc, len(batch))
                    if bad is None:
                        for index, resource_id, _ in batch:
                            outcome[index] = BulkItemResult(resource_id, False, exc.detail)
                        break
                    index, resource_id, _ = batch.pop(bad)
                    outcome[index] = BulkItemResult(resource_id, False, exc.detail)
                    continue
                for index, resource_id, _ in batch:
                    outcome[index] = BulkItemResult(resource_id, True)
                break
        return BulkUpdateResult([outcome[i] for i in sorted(outcome)])
