"""The URL map."""

from __future__ import annotations

from aiohttp import web

from handlers import auth, health, search

__all__ = ["setup_routes"]


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health.health)
    app.router.add_get("/api/me", health.me)
    app.router.add_post("/api/auth/signup", auth.signup)
    app.router.add_post("/api/auth/login", auth.login)
    app.router.add_post("/api/search", search.search)
    app.router.add_get("/api/sources/{source_id}", search.get_source)
    app.router.add_get("/metrics", health.metrics)
