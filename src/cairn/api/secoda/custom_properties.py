"""Secoda dialect: ``/resource/all_v2/custom_properties`` (a bare array list; create answers 200)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.core.custom_properties import CustomPropertyService
from cairn.models.custom_properties import (
    CustomProperty,
    CustomPropertyValue,
    CustomPropertyValueWrite,
    CustomPropertyWrite,
)

router = APIRouter(tags=["custom properties"])
BASE = "/resource/all_v2/custom_properties"


@router.get(
    BASE, response_model=list[CustomProperty], responses=ERRORS, operation_id="custom_properties_list"
)
def list_properties(principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(CustomPropertyService(services.store).list(principal))


@router.post(BASE, response_model=CustomProperty, responses=ERRORS, operation_id="custom_properties_create")
def create_property(principal: PrincipalDep, services: ServicesDep, body: CustomPropertyWrite) -> Response:
    return FastJSONResponse(CustomPropertyService(services.store).create(principal, body))


@router.get(
    BASE + "/{property_id}",
    response_model=CustomProperty,
    responses=ERRORS,
    operation_id="custom_properties_get",
)
def get_property(property_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    return FastJSONResponse(CustomPropertyService(services.store).get(principal, property_id))


def update_property(
    property_id: str, principal: PrincipalDep, services: ServicesDep, body: CustomPropertyWrite
) -> Response:
    return FastJSONResponse(CustomPropertyService(services.store).update(principal, property_id, body))


for _method, _op in (("PUT", "custom_properties_replace"), ("PATCH", "custom_properties_update")):
    router.add_api_route(
        BASE + "/{property_id}",
        update_property,
        methods=[_method],
        response_model=CustomProperty,
        responses=ERRORS,
        operation_id=_op,
    )


@router.delete(
    BASE + "/{property_id}", status_code=204, responses=ERRORS, operation_id="custom_properties_delete"
)
def delete_property(property_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    CustomPropertyService(services.store).delete(principal, property_id)
    return Response(status_code=204)


@router.put(
    BASE + "/{property_id}/{entity_id}",
    status_code=204,
    responses=ERRORS,
    operation_id="custom_property_value_put",
    summary="Set an entity's value (documented: 204, no content; null clears it)",
)
def put_value(
    property_id: str,
    entity_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    body: CustomPropertyValueWrite,
) -> Response:
    CustomPropertyService(services.store).set_value(principal, property_id, entity_id, body)
    return Response(status_code=204)


@router.patch(
    BASE + "/{property_id}/{entity_id}",
    response_model=CustomPropertyValue,
    responses=ERRORS,
    operation_id="custom_property_value_patch",
    summary="Set an entity's value and answer it (pysecoda sends PATCH and reads a JSON body)",
)
def patch_value(
    property_id: str,
    entity_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    body: CustomPropertyValueWrite,
) -> Response:
    return FastJSONResponse(
        CustomPropertyService(services.store).set_value(principal, property_id, entity_id, body)
    )
