"""Secoda dialect: ``/integration/integrations``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.pagination import envelope
from cairn.api.secoda.params import PageParam, PageSizeParam, paging
from cairn.api.secoda.resources import ERRORS, TextParam, text_param
from cairn.core.resources import DEFAULT_PAGE_SIZE
from cairn.models.integrations import Integration, IntegrationCreate, IntegrationPage

router = APIRouter(tags=["integrations"])


@router.get(
    "/integration/integrations",
    response_model=IntegrationPage,
    responses=ERRORS,
    operation_id="integrations_list",
)
def list_integrations(
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    type: TextParam = None,
    page: PageParam = 1,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> Response:
    result = services.integrations.list(
        principal, type=text_param(type, "type"), paging=paging(page, page_size)
    )
    return FastJSONResponse(envelope(request, result))


@router.post(
    "/integration/integrations",
    status_code=201,
    response_model=Integration,
    responses=ERRORS,
    operation_id="integrations_create",
)
def create_integration(principal: PrincipalDep, services: ServicesDep, body: IntegrationCreate) -> Response:
    return FastJSONResponse(services.integrations.create(principal, body), status_code=201)


@router.get(
    "/integration/integrations/{integration_id}",
    response_model=Integration,
    responses=ERRORS,
    operation_id="integrations_get",
)
def get_integration(integration_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(services.integrations.get(principal, integration_id))


@router.delete(
    "/integration/integrations/{integration_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="integrations_delete",
)
def delete_integration(integration_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.integrations.delete(principal, integration_id)
    return Response(status_code=204)
