"""Domain errors. The HTTP layer maps each class to one status and code."""

from __future__ import annotations

__all__ = [
    "CapacityExceeded",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "RateLimited",
    "ServiceError",
    "Unauthorized",
    "UpstreamBadResponse",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]


class ServiceError(Exception):
    """Base of every error that is the caller's or an upstream's fault, never ours."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Unauthorized(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class RateLimited(ServiceError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CapacityExceeded(ServiceError):
    """A server-wide bound is reached; the request may succeed later."""


class UpstreamError(ServiceError):
    """An upstream failed: unreachable, or it kept failing after our retries (a bad gateway)."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.detail = message


class UpstreamUnavailable(UpstreamError):
    """An upstream this service cannot work without (identity) is down for now."""


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamBadResponse(UpstreamError):
    """The upstream answered, but not in its documented protocol."""
