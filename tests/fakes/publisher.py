"""A fake publisher's site: RSL documents, pay-per-crawl 402s, or plain pages."""

from __future__ import annotations

import asyncio

from aiohttp import web

__all__ = ["FakePublisher", "rsl_document"]


def rsl_document(amount: str = "0.05", payment_type: str = "purchase", content_url: str = "/") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsl xmlns="https://rslstandard.org/rsl">
  <content url="{content_url}" server="https://rslcollective.example.org/api">
    <license>
      <permits type="usage">search,ai-include</permits>
      <prohibits type="usage">ai-train</prohibits>
      <payment type="{payment_type}">
        <amount currency="USD">{amount}</amount>
        <standard>https://rslstandard.org/rsl</standard>
      </payment>
    </license>
    <copyright type="organization" contactEmail="rights@example.org">Sample Publisher</copyright>
  </content>
</rsl>"""


class FakePublisher:
    """Serves `rsl` at `rsl_path` if set, answers HEAD with 402 and `crawler_price` if set.

    A `stalled` publisher answers nothing until `release()`.
    """

    def __init__(
        self,
        *,
        rsl: str | None = None,
        rsl_path: str = "/.well-known/rsl.xml",
        crawler_price: str | None = None,
        stalled: bool = False,
    ) -> None:
        self.url = ""  # set once the server is listening
        self.rsl = rsl
        self.rsl_path = rsl_path
        self.crawler_price = crawler_price
        self.requests: list[tuple[str, str]] = []
        self._released = asyncio.Event()
        if not stalled:
            self._released.set()

    def release(self) -> None:
        self._released.set()

    def page(self, path: str) -> str:
        return f"{self.url.rstrip('/')}{path}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        return app

    async def _any(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        await self._released.wait()
        if request.path == self.rsl_path and self.rsl is not None:
            return web.Response(text=self.rsl, content_type="application/rsl+xml")
        if request.path.endswith("rsl.xml"):
            raise web.HTTPNotFound()
        if self.crawler_price is not None:
            return web.Response(status=402, headers={"crawler-price": self.crawler_price})
        return web.Response(text="<html><body>an article</body></html>", content_type="text/html")
