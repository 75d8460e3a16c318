"""The Cairn Python SDK (sync ``Client``, async ``AsyncClient``)."""

from cairn.sdk._client import AsyncClient, Client
from cairn.sdk._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CairnError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    MultipleResourcesFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from cairn.sdk.types import CollectionType

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "CairnError",
    "Client",
    "CollectionType",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "MultipleResourcesFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
]
