"""Liveness, the caller's identity, and the metrics page."""

from __future__ import annotations

from aiohttp import web

from server.keys import caches_key, identity_key, metrics_key, principal_key

from .json import json_response
from .timestamps import iso_utc

__all__ = ["health", "me", "metrics"]


async def health(request: web.Request) -> web.Response:
    """200 while the process serves; `degraded` when Redis does not answer (caches then fail open)."""
    app = request.config_dict
    caches = app[caches_key]
    healthy = await caches.healthy()
    return json_response(
        {
            "status": "ok" if healthy else "degraded",
            "auth_mode": app[identity_key].mode,
            "cache_backend": caches.backend_name,
        }
    )


async def me(request: web.Request) -> web.Response:
    principal = request[principal_key]
    return json_response(
        {
            "user_id": principal.user_id,
            "auth_mode": request.config_dict[identity_key].mode,
            "token_expires_at": iso_utc(principal.expires_at),
        }
    )


async def metrics(request: web.Request) -> web.Response:
    body = request.config_dict[metrics_key].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
