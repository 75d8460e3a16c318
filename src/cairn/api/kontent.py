"""Kontent.ai Management API v2 dialect: ``/v2/projects/{environment_id}/collections``.

The environment is the workspace. A key from another workspace is refused with 403 whether or
not the environment exists, so it learns nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.core.collections import CollectionListing, CollectionService, kontent_json
from cairn.core.errors import PermissionDenied
from cairn.core.principal import Principal
from cairn.models.collections import KontentCollections, KontentError
from cairn.models.common import iso

router = APIRouter(tags=["kontent"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": KontentError, "description": text}
    for code, text in (
        (400, "Invalid request body"),
        (401, "Missing or invalid API key"),
        (403, "The key has no access to this environment"),
        (413, "Body too large"),
    )
}
MAX_OPERATIONS = 1000


def _check_environment(principal: Principal, environment_id: str) -> None:
    if environment_id != principal.workspace_id:
        raise PermissionDenied("The API key does not have access to this environment.")


_SNAKE = {"externalId": "external_id", "propertyName": "property_name"}


def _snake_case(value: Any) -> Any:
    """The JS SDK's typings spell ``externalId``/``propertyName`` and send them as written;
    the REST contract spells them in snake case. Accept both."""
    if isinstance(value, dict):
        return {_SNAKE.get(k, k): _snake_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_case(v) for v in value]
    return value


def _listing(services: ServicesDep, principal: Principal) -> dict[str, Any]:
    collections = CollectionService(services.store)
    return _listing_json(CollectionListing(collections.list(principal), collections.last_modified(principal)))


def _listing_json(listing: CollectionListing) -> dict[str, Any]:
    return {
        "collections": [kontent_json(r) for r in listing.collections],
        "last_modified": iso(listing.last_modified),
    }


@router.get(
    "/v2/projects/{environment_id}/collections",
    response_model=KontentCollections,
    response_model_exclude_none=True,
    responses=ERRORS,
    operation_id="kontent_collections_list",
)
def list_collections(environment_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    _check_environment(principal, environment_id)
    return FastJSONResponse(_listing(services, principal))


@router.patch(
    "/v2/projects/{environment_id}/collections",
    response_model=KontentCollections,
    response_model_exclude_none=True,
    responses=ERRORS,
    operation_id="kontent_collections_modify",
)
def modify_collections(
    environment_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    operations: Annotated[list[dict[str, Any]], Body(max_length=MAX_OPERATIONS)],
) -> Response:
    _check_environment(principal, environment_id)
    listing = CollectionService(services.store).apply_operations(
        principal, [_snake_case(op) for op in operations]
    )
    return FastJSONResponse(_listing_json(listing))
