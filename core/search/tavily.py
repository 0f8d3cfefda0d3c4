"""The Tavily search API as a provider; every web result gets its license discovered."""

from __future__ import annotations

from functools import partial
from typing import Any

import aiohttp

from ..errors import UpstreamBadResponse, UpstreamError
from ..http import call_upstream
from ..licensing import LicenseDiscoverer
from ..retry import RetryPolicy, call_with_retries
from ..sources import SNIPPET_CHARS, License, Source, domain_of, source_id
from .query import MAX_QUERY_CHARS, SearchQuery

__all__ = ["TavilySearch"]

SERVICE = "tavily"
MAX_RESULTS = 20


class TavilySearch:
    name = "tavily"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        discoverer: LicenseDiscoverer,
        *,
        base_url: str,
        api_key: str,
        timeout: float,
        retry: RetryPolicy,
        search_depth: str = "basic",
    ) -> None:
        self._session = session
        self._discoverer = discoverer
        self._url = base_url.rstrip("/") + "/search"
        self._api_key = api_key
        self._timeout = timeout
        self._retry = retry
        self._search_depth = search_depth

    async def search(self, query: SearchQuery) -> list[Source]:
        body: dict[str, Any] = {
            "query": query.text[:MAX_QUERY_CHARS],
            "search_depth": self._search_depth,
            "max_results": min(query.max_results, MAX_RESULTS),
        }
        if query.include_domains:
            body["include_domains"] = list(query.include_domains)
        if query.exclude_domains:
            body["exclude_domains"] = list(query.exclude_domains)
        send = partial(
            call_upstream,
            self._session,
            "POST",
            self._url,
            service=SERVICE,
            timeout=self._timeout,
            json=body,
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        response = await call_with_retries(send, self._retry)
        if response.status == 401:
            raise UpstreamError(SERVICE, "search provider rejected the API key")
        if response.status == 432:
            raise UpstreamError(SERVICE, "search provider plan limit reached")
        if response.status != 200:
            raise UpstreamError(SERVICE, f"search failed with HTTP {response.status}")
        sources = self._sources(response.json(), query)
        return await self._discoverer.discover(sources)

    def _sources(self, data: Any, query: SearchQuery) -> list[Source]:
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise UpstreamBadResponse(SERVICE, "answer without a results list")
        sources: list[Source] = []
        for item in results[:MAX_RESULTS]:
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                continue
            url = item["url"]
            try:
                domain, identity = domain_of(url), source_id(url)
            except ValueError:  # a bad port or bracket: a result we cannot fetch or cite
                continue
            if not domain or not url.startswith(("https://", "http://")) or not query.allows(domain):
                continue
            score = item.get("score")
            published = item.get("published_date")
            sources.append(
                Source(
                    id=identity,
                    title=str(item.get("title") or url)[:300],
                    url=url,
                    domain=domain,
                    snippet=str(item.get("content") or "")[:SNIPPET_CHARS],
                    author=None,
                    published_date=published if isinstance(published, str) else None,
                    relevance_score=float(score) if isinstance(score, (int, float)) else 0.0,
                    source_type="web",
                    license=License.unknown(domain),
                )
            )
        return sources
