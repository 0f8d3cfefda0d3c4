"""The application factory."""

from __future__ import annotations

import os

from aiohttp import web

from .auth import auth_middleware
from .chat import chat_ctx
from .errors import error_middleware
from .keys import metrics_key, settings_key, sockets_key, sweepables_key
from .metrics import Metrics
from .reports import reports_ctx
from .request_id import request_id_middleware
from .resources import caches_ctx, http_session_ctx, identity_ctx, sweeper_ctx
from .routes import setup_routes
from .search import corpus_ctx, search_ctx
from .settings import Settings
from .sockets import SocketRegistry

__all__ = ["app_from_env", "create_app"]


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Outermost first: the id and the metrics see every answer, errors included.
        middlewares=[request_id_middleware, metrics.middleware, error_middleware],
    )
    app.middlewares.append(auth_middleware(app))
    app[settings_key] = settings
    app[metrics_key] = metrics
    app[sweepables_key] = []
    app[sockets_key] = SocketRegistry(settings.ws_max_per_user)
    app.on_shutdown.append(close_sockets)
    # Order matters: each context may use what the ones before it made; the sweeper goes last.
    app.cleanup_ctx.extend(
        [http_session_ctx, caches_ctx, identity_ctx, corpus_ctx, search_ctx, chat_ctx, reports_ctx, sweeper_ctx]
    )
    setup_routes(app)
    return app


async def close_sockets(app: web.Application) -> None:
    # on_shutdown runs before aiohttp waits for open handlers, so websockets end now
    # rather than after the shutdown timeout.
    await app[sockets_key].close_all()


def app_from_env() -> web.Application:
    """The app configured from the environment, for process managers such as Gunicorn."""
    return create_app(Settings.from_env(os.environ))
