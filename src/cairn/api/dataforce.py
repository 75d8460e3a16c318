"""DataForce-style REST (seed 004's SDK talks to it): organizations > orbits > collections.

An orbit is a Cairn workspace. Lists are bare JSON arrays; errors are ``{"detail": ...}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import Connection, select

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS, text_param
from cairn.core.collections import CollectionService, dataforce_json
from cairn.core.errors import NotFound
from cairn.core.principal import Principal
from cairn.models.collections import Collection, CollectionCreate, CollectionUpdate, Organization, Workspace
from cairn.models.common import iso
from cairn.store.schema import organization, workspace

router = APIRouter(tags=["dataforce"])
NameParam = Annotated[str | None, Query(max_length=200, description="exact, case-sensitive name")]
IdParam = Annotated[str | None, Query(max_length=64)]


def _check_scope(principal: Principal, organization_id: str, orbit_id: str | None = None) -> None:
    if organization_id != principal.organization_id:
        raise NotFound("Organization not found")
    if orbit_id is not None and orbit_id != principal.workspace_id:
        raise NotFound("Orbit not found")


def _collections(
    services: ServicesDep, principal: Principal, records: list[Any], *, conn: Connection | None = None
) -> list[dict[str, Any]]:
    members = CollectionService(services.store).members(principal, [r.id for r in records], conn=conn)
    return [dataforce_json(r, members[r.id]) for r in records]


@router.get(
    "/users/me/organizations",
    response_model=list[Organization],
    responses=ERRORS,
    operation_id="dataforce_organizations",
)
def my_organizations(principal: PrincipalDep, services: ServicesDep) -> Response:
    with services.store.read() as conn:
        row = conn.execute(select(organization).where(organization.c.id == principal.organization_id)).one()
    return FastJSONResponse(
        [
            {
                "id": row.id,
                "name": row.name,
                "logo": None,
                "created_at": iso(row.created_at),
                "updated_at": None,
            }
        ]
    )


@router.get(
    "/organizations/{organization_id}/orbits",
    response_model=list[Workspace],
    responses=ERRORS,
    operation_id="dataforce_orbits",
)
def orbits(organization_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    _check_scope(principal, organization_id)
    with services.store.read() as conn:
        row = conn.execute(select(workspace).where(workspace.c.id == principal.workspace_id)).one()
    return FastJSONResponse(
        [
            {
                "id": row.id,
                "name": row.name,
                "organization_id": row.organization_id,
                "bucket_secret_id": None,
                "created_at": iso(row.created_at),
                "updated_at": None,
            }
        ]
    )


@router.get(
    "/organizations/{organization_id}/orbits/{orbit_id}/collections",
    response_model=list[Collection],
    responses=ERRORS,
    operation_id="dataforce_collections_list",
)
def list_collections(
    organization_id: str,
    orbit_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    name: NameParam = None,
    id: IdParam = None,
) -> Response:
    _check_scope(principal, organization_id, orbit_id)
    service = CollectionService(services.store)
    name, id = text_param(name, "name"), text_param(id, "id")
    # The collections and their members in one transaction: one snapshot, one round of
    # pool checkout and BEGIN/COMMIT instead of two (the SDK's get(name) is this request).
    with services.store.read() as conn:
        if name is None and id is None:
            records = service.list(principal, conn=conn)
        else:
            records = service.find(principal, name=name, collection_id=id, conn=conn)
        body = _collections(services, principal, records, conn=conn)
    return FastJSONResponse(body)


@router.post(
    "/organizations/{organization_id}/orbits/{orbit_id}/collections",
    status_code=201,
    response_model=Collection,
    responses=ERRORS,
    operation_id="dataforce_collections_create",
)
def create_collection(
    organization_id: str,
    orbit_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    body: CollectionCreate,
) -> Response:
    _check_scope(principal, organization_id, orbit_id)
    record = CollectionService(services.store).create(
        principal,
        name=body.name,
        description=body.description,
        collection_type=body.collection_type,
        labels=body.tags or [],
    )
    return FastJSONResponse(_collections(services, principal, [record])[0], status_code=201)


@router.patch(
    "/organizations/{organization_id}/orbits/{orbit_id}/collections/{collection_id}",
    response_model=Collection,
    responses=ERRORS,
    operation_id="dataforce_collections_update",
)
def update_collection(
    organization_id: str,
    orbit_id: str,
    collection_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    body: CollectionUpdate,
) -> Response:
    _check_scope(principal, organization_id, orbit_id)
    service = CollectionService(services.store)
    sent = body.model_fields_set
    record = service.rename(
        principal,
        collection_id,
        name=body.name,
        description=body.description,
        description_set="description" in sent,
    )
    if "tags" in sent:
        record = service.set_details(principal, collection_id, labels=body.tags or [])
    return FastJSONResponse(_collections(services, principal, [record])[0])


@router.delete(
    "/organizations/{organization_id}/orbits/{orbit_id}/collections/{collection_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="dataforce_collections_delete",
)
def delete_collection(
    organization_id: str, orbit_id: str, collection_id: str, principal: PrincipalDep, services: ServicesDep
) -> Response:
    _check_scope(principal, organization_id, orbit_id)
    CollectionService(services.store).delete(principal, collection_id)
    return Response(status_code=204)
