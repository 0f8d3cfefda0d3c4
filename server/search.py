"""The search provider chosen by SEARCH_PROVIDER, built at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from core.licensing import DiscoveryPolicy, LicenseDiscoverer, PublicOnlyResolver, TollbitAccount
from core.retry import RetryPolicy
from core.search import LocalSearch, SearchProvider, SearchService, TavilySearch, load_corpus

from .keys import (
    caches_key,
    corpus_key,
    http_session_key,
    metrics_key,
    search_service_key,
    settings_key,
)
from .resources import rate_limiter
from .settings import Settings

__all__ = ["corpus_ctx", "retry_policy", "search_ctx"]

log = logging.getLogger(__name__)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.retry_attempts,
        base_delay=settings.retry_base_delay,
        max_delay=settings.retry_max_delay,
        retry_after_cap=settings.retry_after_cap,
    )


def discovery_policy(settings: Settings) -> DiscoveryPolicy:
    tollbit = None
    if settings.tollbit_api_key:
        tollbit = TollbitAccount(api_key=settings.tollbit_api_key, base_url=settings.tollbit_base_url)
    return DiscoveryPolicy(
        timeout=settings.discovery_timeout,
        concurrency=settings.discovery_concurrency,
        budget=settings.discovery_budget,
        success_ttl=settings.license_cache_ttl,
        failure_ttl=settings.license_failure_ttl,
        allow_private=settings.allow_private_fetch,
        tollbit=tollbit,
    )


async def corpus_ctx(app: web.Application) -> AsyncIterator[None]:
    """The local corpus, indexed once: local search and the offline writer read it."""
    settings = app[settings_key]
    # Parsing and indexing is file I/O and CPU: off the event loop.
    documents = await asyncio.to_thread(load_corpus, Path(settings.corpus_dir))
    app[corpus_key] = await asyncio.to_thread(LocalSearch, documents)
    log.info("local corpus: %d documents indexed from %s", len(documents), settings.corpus_dir)
    yield


async def search_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    caches = app[caches_key]
    discovery_session: aiohttp.ClientSession | None = None
    provider: SearchProvider
    if settings.search_provider == "tavily":
        assert settings.tavily_api_key is not None  # Settings refuses tavily without it
        # Publishers' hosts come from search results, not from us: their own session, whose
        # resolver refuses private addresses unless ALLOW_PRIVATE_FETCH says otherwise.
        resolver = None if settings.allow_private_fetch else PublicOnlyResolver()
        discovery_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.discovery_concurrency * 2, resolver=resolver),
            timeout=aiohttp.ClientTimeout(total=settings.discovery_timeout),
            trace_configs=[app[metrics_key].upstream_trace()],
        )
        discoverer = LicenseDiscoverer(discovery_session, caches["license"], discovery_policy(settings))
        provider = TavilySearch(
            app[http_session_key],
            discoverer,
            base_url=settings.tavily_base_url,
            api_key=settings.tavily_api_key,
            timeout=settings.search_timeout,
            retry=retry_policy(settings),
            search_depth=settings.tavily_search_depth,
        )
    else:
        provider = app[corpus_key]
    limiter = rate_limiter(app, settings.search_rate_limit)
    app[search_service_key] = SearchService(provider, caches["search"], caches["source"], limiter)
    yield
    if discovery_session is not None:
        await discovery_session.close()
