"""The application factory."""

from __future__ import annotations

from aiohttp import web

from .auth import auth_middleware
from .errors import error_middleware
from .keys import metrics_key, settings_key, sweepables_key
from .metrics import Metrics
from .request_id import request_id_middleware
from .resources import caches_ctx, http_session_ctx, identity_ctx, sweeper_ctx
from .routes import setup_routes
from .search import search_ctx
from .settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: the id and the metrics see every answer, errors included.
        middlewares=[request_id_middleware, metrics.middleware, error_middleware, auth_middleware],
    )
    app[settings_key] = settings
    app[metrics_key] = metrics
    app[sweepables_key] = []
    # Order matters: identity needs the session and the token cache; the sweeper goes last.
    app.cleanup_ctx.extend([http_session_ctx, caches_ctx, identity_ctx, search_ctx, sweeper_ctx])
    setup_routes(app)
    return app
