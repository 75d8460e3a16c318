"""``GET /resource/scan``: every visible resource, in keyset pages (for SDK iteration and exports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS, TextParam, text_param
from cairn.core import filters as flt
from cairn.core.resources import MAX_PAGE_SIZE
from cairn.core.scan import scan
from cairn.gcpause import gc_paused
from cairn.models.resources import ScanResponse

router = APIRouter(tags=["resources"])
NEXT_HEADER = "Cairn-Next-After"


@router.get(
    "/resource/scan",
    response_model=ScanResponse,
    responses=ERRORS,
    operation_id="resource_scan",
    summary="Walk the catalog in creation order; pass `next` back as `after` for the following page",
)
def scan_resources(
    principal: PrincipalDep,
    services: ServicesDep,
    filter: TextParam = None,
    after: Annotated[str | None, Query(max_length=255)] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = MAX_PAGE_SIZE,
) -> Response:
    node = flt.parse_filter(flt.loads_param(text_param(filter, "filter") or "", name="filter"))
    # A page's rows and entity dicts live until it is rendered: no collector runs over them
    # meanwhile (see cairn.gcpause).
    with gc_paused():
        page = scan(
            services.resources,
            principal,
            filter_node=node,
            after=text_param(after, "after") or None,
            page_size=page_size,
            wire=True,
        )
        # The cursor also travels in a header, so a client can ask for the following page before
        # it has parsed this one.
        headers = {NEXT_HEADER: page.next} if page.next else {}
        return FastJSONResponse({"results": page.items, "next": page.next}, headers=headers)
