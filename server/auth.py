"""The bearer-token gate in front of every /api route that needs a user."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from core.errors import Unauthorized, UpstreamError, UpstreamUnavailable

from .keys import principal_key, token_validator_key

__all__ = ["auth_middleware"]

_PUBLIC_PATHS = frozenset({"/api/health"})
_PUBLIC_PREFIXES = ("/api/auth/",)


def needs_token(path: str) -> bool:
    return path.startswith("/api/") and path not in _PUBLIC_PATHS and not path.startswith(_PUBLIC_PREFIXES)


def bearer_token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an Authorization: Bearer <token> header is required")
    return token


def auth_middleware(app: web.Application) -> Middleware:
    """The gate for `app`. It reads the validator from `app` itself: this runs on every
    authenticated request, and building request.config_dict costs more than the cache hit."""

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Unrouted requests fall through, so they answer 404 or 405 rather than 401.
        if request.match_info.http_exception is None and needs_token(request.path):
            try:
                request[principal_key] = await app[token_validator_key].authenticate(bearer_token(request))
            except UpstreamError as exc:
                # Whatever failed upstream, to the caller the service cannot check tokens now.
                raise UpstreamUnavailable(exc.service, f"cannot validate the token now ({exc.detail})") from None
        return await handler(request)

    return require_token
