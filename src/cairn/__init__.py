"""Cairn: a self-hosted data catalog. ``import cairn`` gives the Python SDK."""

from cairn.models.collections import Collection
from cairn.sdk import (
    APIConnectionError,
    APIError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    CairnError,
    Client,
    CollectionType,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    MultipleResourcesFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "CairnError",
    "Client",
    "Collection",
    "CollectionType",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "MultipleResourcesFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "__version__",
]
