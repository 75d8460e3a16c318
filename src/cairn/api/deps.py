"""Request dependencies: the services and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from cairn.core.errors import AuthenticationFailed
from cairn.core.integrations import IntegrationService
from cairn.core.keys import KeyResolver
from cairn.core.principal import Principal
from cairn.core.resources import ResourceService
from cairn.store import Store


@dataclass
class Services:
    store: Store
    keys: KeyResolver
    resources: ResourceService
    integrations: IntegrationService


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_principal(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed("Authentication credentials were not provided.")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "token") or not token:
        raise AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
    return get_services(request).keys.resolve(token)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
