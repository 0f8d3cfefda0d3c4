"""The URL map."""

from __future__ import annotations

from aiohttp import web

from handlers import auth, chat, health, reports, search, ws

__all__ = ["setup_routes"]


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health.health)
    app.router.add_get("/api/me", health.me)
    app.router.add_post("/api/auth/signup", auth.signup)
    app.router.add_post("/api/auth/login", auth.login)
    app.router.add_post("/api/search", search.search)
    app.router.add_get("/api/sources/{source_id}", search.get_source)
    app.router.add_post("/api/chat", chat.chat)
    app.router.add_get("/api/chat/history", chat.history)
    app.router.add_delete("/api/chat/history", chat.clear_history)
    app.router.add_post("/api/reports", reports.create_report)
    app.router.add_get("/api/reports/{report_id}", reports.get_report, name="report")
    app.router.add_get("/api/reports/{report_id}/markdown", reports.get_markdown)
    app.router.add_get("/ws/chat", ws.chat_socket)
    app.router.add_get("/metrics", health.metrics)
