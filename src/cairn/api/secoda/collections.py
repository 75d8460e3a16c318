"""Secoda dialect: ``/collection/collections`` and the legacy ``/tag/`` collections (seed 000)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope, page_url
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS, TextParam, text_param, with_etag
from cairn.core import filters as flt
from cairn.core.collections import CollectionService, legacy_json
from cairn.core.errors import NotFound
from cairn.core.resources import DEFAULT_PAGE_SIZE
from cairn.models.collections import (
    LegacyCollection,
    LegacyCollectionCreate,
    LegacyCollectionPage,
    LegacyCollectionUpdate,
    LegacyMessage,
)
from cairn.models.resources import Resource, ResourcePage, ResourceWrite

router = APIRouter(tags=["collections"])


@router.get(
    "/collection/collections", response_model=ResourcePage, responses=ERRORS, operation_id="collections_list"
)
def list_collections(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    title: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    conditions: list[flt.Filter | None] = [flt.exact("entity_type", "collection")]
    if title:
        conditions.append(flt.Condition("contains", flt.FIELDS["title"], text_param(title, "title")))
    result = services.resources.list(
        principal, filter_node=flt.all_of(*conditions), paging=paging(page, page_size)
    )
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/collection/collections",
    status_code=201,
    response_model=Resource,
    responses=ERRORS,
    operation_id="collections_create",
)
def create_collection(principal: PrincipalDep, services: ServicesDep, body: ResourceWrite) -> Response:
    return FastJSONResponse(
        services.resources.create(principal, body, entity_type="collection"), status_code=201
    )


@router.get(
    "/collection/collections/{collection_id}",
    response_model=Resource,
    responses=ERRORS,
    operation_id="collections_get",
)
def get_collection(collection_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return with_etag(services.resources.get(principal, collection_id, entity_type="collection", wire=True))


@router.patch(
    "/collection/collections/{collection_id}",
    response_model=Resource,
    responses=ERRORS,
    operation_id="collections_update",
)
def update_collection(
    collection_id: str, principal: PrincipalDep, services: ServicesDep, body: ResourceWrite
) -> Response:
    updated = services.resources.update(
        principal, collection_id, body, entity_type="collection", allow_type_change=False
    )
    return with_etag(updated)


@router.delete(
    "/collection/collections/{collection_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="collections_delete",
)
def delete_collection(collection_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    CollectionService(services.store).delete(principal, collection_id)
    return Response(status_code=204)


# ---- legacy /tag/ (seed 000): collections in the neo4j-era shape ---------------------------


def _legacy(services: ServicesDep, principal: PrincipalDep, collection_id: str) -> dict[str, object]:
    collections = CollectionService(services.store)
    record = collections.get(principal, collection_id)
    return legacy_json(record, collections.members(principal, [record.id])[record.id])


@router.get(
    "/tag", response_model=LegacyCollectionPage, responses=ERRORS, operation_id="legacy_collections_list"
)
def legacy_list(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    collections = CollectionService(services.store)
    records = collections.list(principal)
    total_pages = math.ceil(len(records) / page_size)
    if page > max(total_pages, 1):
        raise NotFound("Invalid page.", field="page")
    window = records[(page - 1) * page_size : page * page_size]
    members = collections.members(principal, [r.id for r in window])
    next_page = page + 1 if page < total_pages else None
    previous_page = page - 1 if page > 1 else None
    return FastJSONResponse(
        {
            "page": page,
            "count": len(records),
            "total_pages": total_pages,
            "links": {"next": page_url(request, next_page), "previous": page_url(request, previous_page)},
            "meta": {
                "page": page,
                "previous_page": previous_page,
                "next_page": next_page,
                "count": len(records),
                "total_pages": total_pages,
            },
            "results": [legacy_json(r, members[r.id]) for r in window],
        }
    )


@router.post(
    "/tag",
    status_code=201,
    response_model=LegacyCollection,
    responses=ERRORS,
    operation_id="legacy_collections_create",
)
def legacy_create(principal: PrincipalDep, services: ServicesDep, body: LegacyCollectionCreate) -> Response:
    record = CollectionService(services.store).create(
        principal, name=body.name, description=body.description, icon=body.icon
    )
    return FastJSONResponse(legacy_json(record, []), status_code=201)


@router.get(
    "/tag/{collection_id}",
    response_model=LegacyCollection,
    responses=ERRORS,
    operation_id="legacy_collections_get",
)
def legacy_get(collection_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(_legacy(services, principal, collection_id))


@router.put(
    "/tag/{collection_id}",
    response_model=LegacyMessage,
    responses=ERRORS,
    operation_id="legacy_collections_update",
)
# pysecoda's update_tag sends PATCH to the same path.
@router.patch(
    "/tag/{collection_id}",
    response_model=LegacyMessage,
    responses=ERRORS,
    operation_id="legacy_collections_patch",
)
def legacy_update(
    collection_id: str, principal: PrincipalDep, services: ServicesDep, body: LegacyCollectionUpdate
) -> Response:
    CollectionService(services.store).rename(
        principal,
        collection_id,
        name=body.name,
        description=body.description,
        description_set="description" in body.model_fields_set,
    )
    return FastJSONResponse({"msg": "Tag updated"})


@router.delete(
    "/tag/{collection_id}", status_code=204, responses=ERRORS, operation_id="legacy_collections_delete"
)
def legacy_delete(collection_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    CollectionService(services.store).delete(principal, collection_id)
    return Response(status_code=204)
