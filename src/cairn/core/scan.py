"""Walking the whole catalog: keyset pages in creation order.

Page numbers get slower the deeper they go (``OFFSET`` reads and drops every earlier row) and
skip or repeat rows when the catalog changes between pages. A scan resumes after the last
resource it returned instead, so every page costs the same and a row is seen at most once,
however long the walk takes and whatever is written meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select

from cairn.core import filters as flt
from cairn.core.errors import InvalidInput
from cairn.core.principal import Principal
from cairn.core.resources import MAX_PAGE_SIZE, ResourceService
from cairn.store import resources as repo
from cairn.store.schema import resource


@dataclass(frozen=True)
class ScanPage:
    items: list[dict[str, Any]]
    next: str | None  # the id to resume after; None on the last page


def scan(
    service: ResourceService,
    principal: Principal,
    *,
    filter_node: flt.Filter | None = None,
    after: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
    wire: bool = False,
) -> ScanPage:
    """``wire``: items only to be serialised with orjson (see ``ResourceService.entities``)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}", field="page_size")
    where = service.visibility(principal, filter_node)
    if filter_node is not None:
        where = and_(where, repo.compile_filter(filter_node, principal.workspace_id, service.store.dialect))
    with service.store.read() as conn:
        if after:
            # Any resource of the workspace marks a position, even one hidden since.
            start = conn.execute(
                select(resource.c.pk).where(
                    resource.c.workspace_id == principal.workspace_id, resource.c.id == after
                )
            ).scalar()
            if start is None:
                raise InvalidInput("after: no resource with this id", field="after")
            where = and_(where, resource.c.pk > start)
        columns = repo.wire_columns(service.store.dialect) if wire else (resource,)
        stmt = select(*columns).where(where).order_by(resource.c.pk).limit(page_size + 1)
        rows = list(conn.execute(stmt))
        more = len(rows) > page_size
        rows = rows[:page_size]
        items = service.entities(conn, rows, principal, wire=wire)
    return ScanPage(items=items, next=items[-1]["id"] if more else None)
