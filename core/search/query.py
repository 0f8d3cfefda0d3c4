"""A search request, normalized so that equal requests share one cache entry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

__all__ = ["MAX_QUERY_CHARS", "SearchQuery"]

MAX_QUERY_CHARS = 400  # Tavily's documented limit, and ours


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    max_results: int = 10
    include_domains: tuple[str, ...] = ()
    exclude_domains: tuple[str, ...] = ()

    def cache_key(self, provider: str) -> str:
        """A SHA-256 of the normalized request: stable across processes, unlike hash()."""
        normalized = {
            "provider": provider,
            "query": " ".join(self.text.lower().split()),
            "max_results": self.max_results,
            "include": sorted({domain.lower() for domain in self.include_domains}),
            "exclude": sorted({domain.lower() for domain in self.exclude_domains}),
        }
        return hashlib.sha256(orjson.dumps(normalized, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def allows(self, domain: str) -> bool:
        """Domain filters match the domain itself and its subdomains."""

        def matches(pattern: str) -> bool:
            return domain == pattern or domain.endswith("." + pattern)

        if self.include_domains and not any(matches(pattern) for pattern in self.include_domains):
            return False
        return not any(matches(pattern) for pattern in self.exclude_domains)
