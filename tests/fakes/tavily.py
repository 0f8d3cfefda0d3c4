"""A fake Tavily search API: a real aiohttp app that records what it is asked."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

__all__ = ["FakeTavily"]


class FakeTavily:
    """Answers each POST /search with the next status in `statuses` (then 200), after `latency`."""

    def __init__(self) -> None:
        self.url = ""  # set once the server is listening
        self.results: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.latency = 0.0
        self.calls = 0
        self.requests: list[tuple[dict[str, str], Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/search", self._search)
        return app

    async def _search(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.json()
        self.requests.append((dict(request.headers), body))
        if self.latency:
            await asyncio.sleep(self.latency)
        status = self.statuses.pop(0) if self.statuses else 200
        if status != 200:
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.json_response({"detail": {"error": f"fake error {status}"}}, status=status, headers=headers)
        return web.json_response(
            {"query": body["query"], "results": self.results[: body["max_results"]], "response_time": 0.01}
        )
