"""Cleanup contexts: each creates one resource at start-up and closes it on shutdown."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator

import aiohttp
import orjson
from aiohttp import web

from core.auth import IdentityProvider, LedeWireIdentity, LocalIdentity, PasswordHasher, TokenValidator
from core.cache import CacheRegistry
from core.ratelimit import Limiter, RateLimiter, RedisRateLimiter

from .background import sweep_forever
from .keys import (
    caches_key,
    http_session_key,
    identity_key,
    metrics_key,
    settings_key,
    sweepables_key,
    token_validator_key,
)

__all__ = ["caches_ctx", "http_session_ctx", "identity_ctx", "rate_limiter", "sweeper_ctx"]

log = logging.getLogger(__name__)


async def http_session_ctx(app: web.Application) -> AsyncIterator[None]:
    """One pooled ClientSession for every upstream, with explicit timeouts."""
    settings = app[settings_key]
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout, connect=settings.upstream_connect_timeout),
        connector=aiohttp.TCPConnector(limit=settings.upstream_pool_size),
        json_serialize=lambda value: orjson.dumps(value).decode(),
        trace_configs=[app[metrics_key].upstream_trace()],
    )
    app[http_session_key] = session
    yield
    await session.close()


async def caches_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    caches = CacheRegistry(
        settings.cache_url,
        prefix=settings.cache_prefix,
        redis_timeout=settings.redis_timeout,
        redis_pool_size=settings.redis_pool_size,
        lock_ttl=settings.redis_lock_ttl,
    )
    caches.create("token", ttl=settings.token_cache_ttl, max_entries=settings.token_cache_max)
    caches.create("search", ttl=settings.search_cache_ttl, max_entries=settings.search_cache_max)
    caches.create("report", ttl=settings.report_cache_ttl, max_entries=settings.report_cache_max)
    caches.create("source", ttl=settings.source_cache_ttl, max_entries=settings.source_cache_max)
    caches.create("license", ttl=settings.license_cache_ttl, max_entries=settings.license_cache_max)
    caches.create("report_job", ttl=settings.report_cache_ttl, max_entries=settings.report_jobs_max)
    app[caches_key] = caches
    app[sweepables_key].append(caches)
    app[metrics_key].watch_caches(lambda: [cache.stats for cache in caches])
    yield
    await caches.close()


async def identity_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    provider: IdentityProvider
    if settings.auth_mode == "ledewire":
        assert settings.ledewire_api_url is not None  # Settings refuses ledewire without it
        provider = LedeWireIdentity(
            app[http_session_key], settings.ledewire_api_url, timeout=settings.auth_upstream_timeout
        )
    else:
        secret = settings.auth_jwt_secret
        if secret is None:
            secret = secrets.token_urlsafe(32)
            log.warning("AUTH_JWT_SECRET is not set: using a random secret, so tokens will not survive a restart")
        hasher = PasswordHasher(
            concurrency=settings.password_hash_concurrency, max_waiting=settings.password_hash_queue
        )
        provider = LocalIdentity(
            secret, hasher, token_ttl=settings.local_token_ttl, max_accounts=settings.local_max_accounts
        )
    app[identity_key] = provider
    app[token_validator_key] = TokenValidator(
        provider, app[caches_key]["token"], rejection_ttl=settings.token_rejection_ttl
    )
    yield


def rate_limiter(app: web.Application, per_minute: int) -> Limiter:
    """Counted in Redis when the caches are, so that a limit holds across instances."""
    caches, settings = app[caches_key], app[settings_key]
    if caches.redis is not None:
        return RedisRateLimiter(caches.redis, prefix=settings.cache_prefix, per_minute=per_minute)
    # One bucket per user, for as many users as conversations may hold, and a margin.
    limiter = RateLimiter(per_minute=per_minute, max_keys=settings.conversation_max_users * 10)
    app[sweepables_key].append(limiter)
    return limiter


async def sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """The single expiry task for every cache and store that registered to be swept."""
    sweeps = app[metrics_key].sweeps
    task = asyncio.create_task(
        sweep_forever(app[sweepables_key], app[settings_key].cache_sweep_interval, lambda _: sweeps.inc()),
        name="sweeper",
    )
    yield
    task.cancel()
    # wait() rather than await: a cancellation of this shutdown itself must not be swallowed.
    await asyncio.wait([task])
