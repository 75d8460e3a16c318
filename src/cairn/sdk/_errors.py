"""SDK errors.

CairnError
├── ConfigurationError          a default (organization, workspace, collection) cannot be set
├── MultipleResourcesFoundError a name matched more than one collection
├── InvalidInputError           arguments the server would refuse (nothing was sent)
│   └── FilterError             a filter or sort the server would refuse
├── APIConnectionError          the server could not be reached
└── APIError                    the server answered 4xx/5xx (status_code, body)
    ├── BadRequestError (400)
    ├── AuthenticationError (401)
    ├── PermissionDeniedError (403)
    ├── NotFoundError (404)
    ├── ConflictError (409)
    ├── UnprocessableEntityError (422)
    ├── RateLimitError (429)
    └── InternalServerError (5xx)
"""

from __future__ import annotations

from typing import Any


class CairnError(Exception):
    """Every error the SDK raises."""


class ConfigurationError(CairnError):
    pass


class MultipleResourcesFoundError(CairnError):
    pass


class InvalidInputError(CairnError, ValueError):
    """Arguments the server would refuse, caught before any request was sent."""


class APIConnectionError(CairnError):
    pass


class APIError(CairnError):
    status_code: int = 0

    def __init__(
        self, message: str, *, status_code: int, body: Any, method: str, url: str, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message  # the server's own words, without method and URL
        self.status_code = status_code
        self.body = body
        self.method = method
        self.url = url


class BadRequestError(APIError):
    pass


class AuthenticationError(APIError):
    pass


class PermissionDeniedError(APIError):
    pass


class NotFoundError(APIError):
    pass


class ConflictError(APIError):
    pass


class UnprocessableEntityError(APIError):
    pass


class RateLimitError(APIError):
    pass


class InternalServerError(APIError):
    pass


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_for(status_code: int, body: Any, method: str, url: str) -> APIError:
    cls = _BY_STATUS.get(status_code) or (InternalServerError if status_code >= 500 else APIError)
    detail = body.get("detail") or body.get("message") if isinstance(body, dict) else None
    message = f"Error response {status_code} while requesting {method} {url}"
    if detail:
        message += f": {detail}"
    return cls(message, status_code=status_code, body=body, method=method, url=url, detail=str(detail or ""))
