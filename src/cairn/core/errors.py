"""Domain errors. Services raise these; each API dialect renders them in its own format."""

from __future__ import annotations


class CairnError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CairnError):
    status_code = 400
    code = "invalid_input"


class NotFound(CairnError):
    status_code = 404
    code = "not_found"


class Conflict(CairnError):
    status_code = 409
    code = "conflict"


class AuthenticationFailed(CairnError):
    status_code = 401
    code = "not_authenticated"


class PermissionDenied(CairnError):
    status_code = 403
    code = "permission_denied"


class PreconditionFailed(CairnError):
    status_code = 412
    code = "precondition_failed"


class PayloadTooLarge(CairnError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(CairnError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
