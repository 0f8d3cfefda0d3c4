"""Every error leaves as JSON: {"error": {"code", "message"}} with the right status."""

from __future__ import annotations

import logging
import math

from aiohttp import web
from aiohttp.typedefs import Handler

from core.errors import (
    CapacityExceeded,
    Conflict,
    InvalidInput,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthorized,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from handlers.json import json_response

from .keys import request_id_key

__all__ = ["describe", "error_body", "error_middleware"]

log = logging.getLogger(__name__)

# Most specific class first: the first isinstance match wins.
_DOMAIN_ERRORS: tuple[tuple[type[ServiceError], int, str], ...] = (
    (InvalidInput, 400, "invalid_input"),
    (Unauthorized, 401, "unauthorized"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (RateLimited, 429, "rate_limited"),
    (UpstreamBadResponse, 502, "upstream_bad_response"),
    (UpstreamUnavailable, 503, "upstream_unavailable"),
    (CapacityExceeded, 503, "capacity_exceeded"),
    (UpstreamTimeout, 504, "upstream_timeout"),
    (UpstreamError, 502, "upstream_error"),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# Headers of an aiohttp HTTPException worth keeping on the JSON answer.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def describe(exc: ServiceError) -> tuple[int, str]:
    """The HTTP status and error code for a domain error (websocket error frames use the code)."""
    for cls, status, code in _DOMAIN_ERRORS:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"


def _from_domain(exc: ServiceError) -> web.Response:
    status, code = describe(exc)
    headers = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(min(exc.retry_after, 3600.0))))
    return json_response(error_body(code, exc.message), status=status, headers=headers)


def _from_http(exc: web.HTTPException) -> web.Response:
    code = _HTTP_CODES.get(exc.status, "error" if exc.status >= 500 else "bad_request")
    message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
    return json_response(error_body(code, message), status=exc.status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ServiceError as exc:
        return _from_domain(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http(exc)
    except Exception:
        log.exception("unhandled error in %s %s [%s]", request.method, request.path, request.get(request_id_key))
        return json_response(error_body("internal_error", "internal server error"), status=500)
