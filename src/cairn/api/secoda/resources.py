"""Secoda dialect: ``/resource/catalog``, ``/resource/all`` and the per-type endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.core import filters as flt
from cairn.core.errors import InvalidInput
from cairn.core.resources import DEFAULT_PAGE_SIZE, RESULT_CAP
from cairn.models.common import check_text
from cairn.models.errors import ErrorBody
from cairn.models.resources import BulkUpdateItem, Resource, ResourcePage, ResourceWrite, VersionPage
from cairn.store import resources as repo

router = APIRouter(tags=["resources"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid input"},
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "The key's role may not do this"},
    404: {"model": ErrorBody, "description": "Not found"},
    413: {"model": ErrorBody, "description": "Body too large"},
}

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    412: {"model": ErrorBody, "description": "If-Match does not match the resource's current ETag"},
}

MAX_PARAM = 65_536

TextParam = Annotated[str | None, Query(max_length=MAX_PARAM)]


def text_param(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return check_text(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} {exc}", field=name) from exc


def catalog_list(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    filter: TextParam = None,
    sort: TextParam = None,
    teams: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    filter_node = flt.parse_filter(flt.loads_param(text_param(filter, "filter") or "", name="filter"))
    sort_keys = flt.parse_sort(flt.loads_param(text_param(sort, "sort") or "", name="sort"))
    result = services.resources.list(
        principal,
        filter_node=filter_node,
        sort=sort_keys,
        paging=paging(page, page_size, cap=RESULT_CAP),
        team=text_param(teams, "teams") or None,
        wire=True,
    )
    return FastJSONResponse(envelope(request, result))


router.add_api_route(
    "/resource/catalog",
    catalog_list,
    methods=["GET"],
    response_model=ResourcePage,
    responses=ERRORS,
    operation_id="resource_catalog_list",
    summary="List catalog resources (JSON filter and sort)",
)
router.add_api_route(
    "/resource/all",
    catalog_list,
    methods=["GET"],
    response_model=ResourcePage,
    responses=ERRORS,
    operation_id="resource_all_list",
    summary="List catalog resources (alias of /resource/catalog)",
)


@router.post(
    "/resource/catalog",
    status_code=201,
    response_model=Resource,
    responses=ERRORS,
    operation_id="resource_create",
)
def create_resource(principal: PrincipalDep, services: ServicesDep, body: ResourceWrite) -> Response:
    return FastJSONResponse(services.resources.create(principal, body), status_code=201)


@router.post(
    "/resource/all/bulk_update",
    response_model=list[str],
    responses=ERRORS,
    operation_id="resource_bulk_update",
)
def bulk_update(
    principal: PrincipalDep,
    services: ServicesDep,
    body: Annotated[list[BulkUpdateItem], Body()],
) -> Response:
    return FastJSONResponse(services.resources.bulk_update(principal, body))


def with_etag(entity: dict[str, Any], status_code: int = 200) -> Response:
    row = {
        "id": entity["id"],
        "updated_at": datetime.fromisoformat(entity["updated_at"].replace("Z", "+00:00")),
    }
    return FastJSONResponse(entity, status_code=status_code, headers={"ETag": repo.etag(row)})


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description="Optimistic concurrency: the ETag of an earlier read; 412 if the resource changed since.",
    ),
]


@router.get(
    "/resource/all/{resource_id}", response_model=Resource, responses=ERRORS, operation_id="resource_get"
)
def get_resource(resource_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return with_etag(services.resources.get(principal, resource_id, wire=True))


@router.patch(
    "/resource/all/{resource_id}",
    response_model=Resource,
    responses=WRITE_ERRORS,
    operation_id="resource_update",
)
def update_resource(
    resource_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    body: ResourceWrite,
    if_match: IfMatch = None,
) -> Response:
    return with_etag(services.resources.update(principal, resource_id, body, if_match=if_match))


@router.post(
    "/resource/all/{resource_id}/restore",
    response_model=Resource,
    responses=ERRORS,
    operation_id="resource_restore",
    summary="Undo a delete: the resource and its subtree come back with memberships and lineage",
)
def restore_resource(resource_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return with_etag(services.resources.restore(principal, resource_id))


@router.get(
    "/resource/all/{resource_id}/history",
    response_model=VersionPage,
    responses=ERRORS,
    operation_id="resource_history",
    summary="Every recorded change of a resource, newest first",
)
def resource_history(
    request: Request,
    resource_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = services.resources.history(principal, resource_id, paging(page, page_size))
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/resource/all/{resource_id}/history/{version}/restore",
    response_model=Resource,
    responses=ERRORS,
    operation_id="resource_restore_version",
    summary="Restore every field as it was after a version (recorded as a new version)",
)
def restore_version(
    resource_id: str,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    return with_etag(services.resources.restore_version(principal, resource_id, version))


@router.delete(
    "/resource/all/{resource_id}", status_code=204, responses=ERRORS, operation_id="resource_delete"
)
def delete_resource(resource_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.resources.delete(principal, resource_id)
    return Response(status_code=204)


# ---- per-type endpoints (spec 4.2): the route decides the entity type ---------------------

PER_TYPE_ROUTES: list[tuple[str, str, str]] = [
    # (entity type, collection path, operation id stem)
    ("database", "/database/databases", "databases"),
    ("schema", "/database/schemas", "schemas"),
    ("table", "/table/tables", "tables"),
    ("column", "/table/columns", "columns"),
    ("column", "/table/column", "column"),
    ("dashboard", "/dashboard/dashboards", "dashboards"),
    ("chart", "/dashboard/charts", "charts"),
    ("job", "/job/jobs", "jobs"),
    ("event", "/event/events", "events"),
    ("query", "/query/queries", "queries"),
    ("document", "/document/documents", "documents"),
    ("document", "/document", "document"),
    ("glossary", "/dictionary/terms", "terms"),
]


def _per_type_routes(entity_type: str, path: str, stem: str) -> None:
    def list_endpoint(
        request: Request,
        principal: PrincipalDep,
        services: ServicesDep,
        integration_id: TextParam = None,
        parent_id: TextParam = None,
        title: TextParam = None,
        table_title: TextParam = None,
        page: PageParam = 1,
        page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
    ) -> Response:
        conditions: list[flt.Filter | None] = [flt.exact("entity_type", entity_type)]
        if integration_id:
            conditions.append(flt.exact("integration", text_param(integration_id, "integration_id")))
        if parent_id:
            conditions.append(flt.exact("parent", text_param(parent_id, "parent_id")))
        if title:
            conditions.append(flt.Condition("contains", flt.FIELDS["title"], text_param(title, "title")))
        if table_title:
            conditions.append(
                flt.Condition("exact", flt.FIELDS["table"], text_param(table_title, "table_title"))
            )
        result = services.resources.list(
            principal, filter_node=flt.all_of(*conditions), paging=paging(page, page_size), wire=True
        )
        return FastJSONResponse(envelope(request, result))

    def create_endpoint(principal: PrincipalDep, services: ServicesDep, body: ResourceWrite) -> Response:
        return FastJSONResponse(
            services.resources.create(principal, body, entity_type=entity_type), status_code=201
        )

    def get_endpoint(resource_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
        return with_etag(services.resources.get(principal, resource_id, entity_type=entity_type, wire=True))

    def update_endpoint(
        resource_id: str,
        principal: PrincipalDep,
        services: ServicesDep,
        body: ResourceWrite,
        if_match: IfMatch = None,
    ) -> Response:
        updated = services.resources.update(
            principal, resource_id, body, entity_type=entity_type, allow_type_change=False, if_match=if_match
        )
        return with_etag(updated)

    def delete_endpoint(resource_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
        services.resources.delete(principal, resource_id, entity_type=entity_type)
        return Response(status_code=204)

    tag = f"{entity_type}s"
    item = f"{path}/{{resource_id}}"
    router.add_api_route(
        path,
        list_endpoint,
        methods=["GET"],
        response_model=ResourcePage,
        responses=ERRORS,
        operation_id=f"{stem}_list",
        tags=[tag],
    )
    router.add_api_route(
        path,
        create_endpoint,
        methods=["POST"],
        status_code=201,
        response_model=Resource,
        responses=ERRORS,
        operation_id=f"{stem}_create",
        tags=[tag],
    )
    router.add_api_route(
        item,
        get_endpoint,
        methods=["GET"],
        response_model=Resource,
        responses=ERRORS,
        operation_id=f"{stem}_get",
        tags=[tag],
    )
    router.add_api_route(
        item,
        update_endpoint,
        methods=["PATCH"],
        response_model=Resource,
        responses=WRITE_ERRORS,
        operation_id=f"{stem}_update",
        tags=[tag],
    )
    router.add_api_route(
        item,
        delete_endpoint,
        methods=["DELETE"],
        status_code=204,
        responses=ERRORS,
        operation_id=f"{stem}_delete",
        tags=[tag],
    )


for _entity_type, _path, _stem in PER_TYPE_ROUTES:
    _per_type_routes(_entity_type, _path, _stem)
