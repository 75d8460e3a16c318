"""Secoda dialect: the workspace audit log (``/notification/workspace``), for admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS
from cairn.core import audit
from cairn.core.resources import DEFAULT_PAGE_SIZE, PageResult, check_page

router = APIRouter(tags=["audit"])


class Performer(BaseModel):
    id: str | None
    name: str | None


class AuditEvent(BaseModel):
    id: str
    created_at: str
    event: str
    resource_id: str | None
    resource_type: str
    resource_title: str | None = None
    performer: Performer
    details: dict[str, Any] = {}


class AuditPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[AuditEvent]


@router.get(
    "/notification/workspace",
    response_model=AuditPage,
    responses=ERRORS,
    operation_id="audit_log",
    summary="Every create, update and delete in the workspace, newest first (admins; 90 days)",
)
def audit_log(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    days: Annotated[int, Query(description="How many days back (at most 90)")] = audit.RETENTION_DAYS,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    request_page = paging(page, page_size)
    with services.store.read() as conn:
        total, items = audit.list_events(
            conn, principal, days=days, limit=page_size, offset=(page - 1) * page_size
        )
    total_pages = check_page(request_page, total)
    return FastJSONResponse(envelope(request, PageResult(items, total, page, page_size, total_pages)))
