"""Wire models shared by the server and the SDK. Imports pydantic only."""

from cairn.models.common import iso, utc_now
from cairn.models.errors import ErrorBody
from cairn.models.integrations import Integration, IntegrationCreate, IntegrationPage
from cairn.models.resources import (
    ENTITY_TYPE_ALIASES,
    ENTITY_TYPES,
    BulkUpdateItem,
    Permissions,
    Resource,
    ResourcePage,
    ResourceWrite,
)

__all__ = [
    "ENTITY_TYPES",
    "ENTITY_TYPE_ALIASES",
    "BulkUpdateItem",
    "ErrorBody",
    "Integration",
    "IntegrationCreate",
    "IntegrationPage",
    "Permissions",
    "Resource",
    "ResourcePage",
    "ResourceWrite",
    "iso",
    "utc_now",
]
