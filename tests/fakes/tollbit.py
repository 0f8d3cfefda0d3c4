"""A fake Tollbit token endpoint."""

from __future__ import annotations

from typing import Any

from aiohttp import web

__all__ = ["FakeTollbit"]


class FakeTollbit:
    """Grants a token for any url under `licensed_prefix` when the key matches."""

    def __init__(self, api_key: str, licensed_prefix: str) -> None:
        self.url = ""
        self.api_key = api_key
        self.licensed_prefix = licensed_prefix
        self.requests: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/dev/v2/tokens/content", self._token)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if request.headers.get("TollbitKey") != self.api_key:
            return web.json_response({"error": "bad key"}, status=401)
        if not str(body.get("url", "")).startswith(self.licensed_prefix):
            return web.json_response({"error": "not licensed here"}, status=404)
        return web.json_response({"token": "tb-token-123"})
