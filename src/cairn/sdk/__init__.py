"""The Cairn Python SDK: ``Client``, ``AsyncClient``, embedded ``Catalog``, filters ``F`` and ``S``."""

from cairn.sdk._catalog import BulkItemResult, BulkUpdateResult
from cairn.sdk._client import AsyncClient, Client
from cairn.sdk._embedded import AsyncCatalog, Catalog
from cairn.sdk._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CairnError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidInputError,
    MultipleResourcesFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from cairn.sdk._lineage import LineageEdge, LineageGraph
from cairn.sdk._pagination import AsyncPager, Page, SyncPager
from cairn.sdk.filters import F, FilterError, S
from cairn.sdk.types import CollectionType

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncCatalog",
    "AsyncClient",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "BulkItemResult",
    "BulkUpdateResult",
    "CairnError",
    "Catalog",
    "Client",
    "CollectionType",
    "ConfigurationError",
    "ConflictError",
    "F",
    "FilterError",
    "InternalServerError",
    "InvalidInputError",
    "LineageEdge",
    "LineageGraph",
    "MultipleResourcesFoundError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "S",
    "SyncPager",
    "UnprocessableEntityError",
]
