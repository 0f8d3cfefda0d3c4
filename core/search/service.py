"""Search with a shared result cache, and a registry of every source handed out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..cache import Cache
from ..errors import NotFound
from ..ratelimit import Limiter
from .query import SearchQuery
from ..sources import Source

__all__ = ["SearchOutcome", "SearchProvider", "SearchService"]


class SearchProvider(Protocol):
    name: str

    async def search(self, query: SearchQuery) -> list[Source]: ...


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    sources: list[Source]
    cached: bool


class SearchService:
    """Results are cached per normalized request and hold nothing about who asked.

    Each source is also kept by id, so that later requests can name it.
    """

    def __init__(
        self,
        provider: SearchProvider,
        results: Cache[list[dict[str, Any]]],
        sources: Cache[dict[str, Any]],
        limiter: Limiter,
    ) -> None:
        self._provider = provider
        self._results = results
        self._sources = sources
        self._limiter = limiter

    @property
    def provider_name(self) -> str:
        return self._provider.name

    async def search(self, query: SearchQuery, *, user_id: str | None = None) -> SearchOutcome:
        """`user_id` is given for a user's own searches, which count against their rate limit."""
        if user_id is not None:
            await self._limiter.hit(user_id, "searches")
        computed = False

        async def run() -> list[dict[str, Any]]:
            nonlocal computed
            computed = True
            return await self._run(query)

        found = await self._results.get_or_compute(query.cache_key(self._provider.name), run)
        return SearchOutcome([Source.from_dict(item) for item in found], cached=not computed)

    async def source(self, source_id: str) -> Source:
        found = await self._sources.get(source_id)
        if found is None:
            raise NotFound(f"no source {source_id!r}: search for it first")
        return Source.from_dict(found)

    async def _run(self, query: SearchQuery) -> list[dict[str, Any]]:
        unique: dict[str, Source] = {}
        for source in await self._provider.search(query):
            unique.setdefault(source.id, source)
        found = [source.to_dict() for source in unique.values()]
        for item in found:
            await self._sources.set(item["id"], item)
        return found
