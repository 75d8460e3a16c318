"""``/keys``: admins create, list and revoke their workspace's API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from cairn.api.deps import PrincipalDep, ServicesDep
from cairn.api.responses import FastJSONResponse
from cairn.api.secoda.resources import ERRORS
from cairn.core import keys
from cairn.models.keys import ApiKey, CreatedApiKey, KeyCreate

router = APIRouter(tags=["keys"])


@router.get("/keys", response_model=list[ApiKey], responses=ERRORS, operation_id="keys_list")
def list_keys(principal: PrincipalDep, services: ServicesDep) -> Response:
    principal.require_admin()
    return FastJSONResponse(keys.list_keys(services.store, workspace_id=principal.workspace_id))


@router.post(
    "/keys", status_code=201, response_model=CreatedApiKey, responses=ERRORS, operation_id="keys_create"
)
def create_key(principal: PrincipalDep, services: ServicesDep, body: KeyCreate) -> Response:
    principal.require_admin()
    created = keys.create_key(
        services.store,
        workspace_id=principal.workspace_id,
        name=body.name,
        role=body.role or (None if body.user else "viewer"),
        expires_at=body.expires_at,
        user=body.user,
    )
    listed: dict[str, Any] = next(
        k
        for k in keys.list_keys(services.store, workspace_id=principal.workspace_id)
        if k["id"] == created.id
    )
    return FastJSONResponse({**listed, "token": created.token}, status_code=201)


@router.delete("/keys/{key_id}", status_code=204, responses=ERRORS, operation_id="keys_revoke")
def revoke_key(key_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    principal.require_admin()
    keys.revoke_key(services.store, workspace_id=principal.workspace_id, key_id=key_id)
    return Response(status_code=204)
