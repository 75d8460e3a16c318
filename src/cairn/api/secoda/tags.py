"""Secoda dialect: label-style tags at ``/tag/tags`` (``/tag/`` itself is legacy collections)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS
from cairn.core.resources import DEFAULT_PAGE_SIZE
from cairn.core.tags import TagService
from cairn.models.tags import Tag, TagPage, TagWrite

# Included before the collections router, so ``/tag/tags`` wins over ``/tag/{collection_id}``.
router = APIRouter(tags=["tags"])


@router.get("/tag/tags", response_model=TagPage, responses=ERRORS, operation_id="tags_list")
def list_tags(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = TagService(services.store).list(principal, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post("/tag/tags", status_code=201, response_model=Tag, responses=ERRORS, operation_id="tags_create")
def create_tag(principal: PrincipalDep, services: ServicesDep, body: TagWrite) -> Response:
    return FastJSONResponse(TagService(services.store).create(principal, body), status_code=201)


@router.get("/tag/tags/{tag_id}", response_model=Tag, responses=ERRORS, operation_id="tags_get")
def get_tag(tag_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(TagService(services.store).get(principal, tag_id))


def update_tag(tag_id: str, principal: PrincipalDep, services: ServicesDep, body: TagWrite) -> Response:
    return FastJSONResponse(TagService(services.store).update(principal, tag_id, body))


router.add_api_route(
    "/tag/tags/{tag_id}",
    update_tag,
    methods=["PATCH"],
    response_model=Tag,
    responses=ERRORS,
    operation_id="tags_update",
)
router.add_api_route(
    "/tag/tags/{tag_id}",
    update_tag,
    methods=["PUT"],
    response_model=Tag,
    responses=ERRORS,
    operation_id="tags_replace",
)


@router.delete("/tag/tags/{tag_id}", status_code=204, responses=ERRORS, operation_id="tags_delete")
def delete_tag(tag_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    TagService(services.store).delete(principal, tag_id)
    return Response(status_code=204)
