"""The same cache contract on aiocache's Redis backend, against the real Redis server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from core.cache import CacheRegistry
from tests.conftest import REDIS_URL, bearer, metric

pytestmark = pytest.mark.redis

@pytest.fixture
async def registry(prefix: str) -> AsyncIterator[CacheRegistry]:
    caches = CacheRegistry(REDIS_URL, prefix=prefix)
    yield caches
    await caches.close()


async def test_values_round_trip_under_a_namespaced_key_with_a_native_ttl(registry, prefix):
    cache = registry.create("token", ttl=30, max_entries=10)

    await cache.set("abc", {"u": "user-1", "e": 1.5})

    assert await cache.get("abc") == {"u": "user-1", "e": 1.5}
    client = redis.from_url(REDIS_URL)
    try:
        assert 0 < await client.pttl(f"{prefix}:token:abc") <= 30_000
    finally:
        await client.aclose()


async def test_redis_expires_entries_by_itself(registry):
    cache = registry.create("search", ttl=0.1, max_entries=10)
    await cache.set("q", ["result"])

    await asyncio.sleep(0.2)

    assert await cache.get("q") is None
    assert await registry.sweep() == 0


async def test_concurrent_misses_run_the_factory_once(registry):
    cache = registry.create("report", ttl=30, max_entries=10)
    calls = 0

    async def factory() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"sections": 3}

    results = await asyncio.gather(*(cache.get_or_compute("r", factory) for _ in range(20)))

    assert results == [{"sections": 3}] * 20
    assert calls == 1


async def test_a_dead_redis_reads_as_a_miss_and_never_raises(closed_port):
    caches = CacheRegistry(f"redis://127.0.0.1:{closed_port}/0", redis_timeout=0.2)
    cache = caches.create("token", ttl=30, max_entries=10)
    try:
        await cache.set("k", {"v": 1})
        assert await cache.get("k") is None
        assert await cache.get_or_compute("k", lambda: asyncio.sleep(0, {"v": 2})) == {"v": 2}
        assert cache.stats.errors >= 3
    finally:
        await caches.close()


async def test_two_instances_share_one_token_validation(app_client, fake_ledewire, prefix):
    env = {"auth_mode": "ledewire", "ledewire_api_url": fake_ledewire.url, "cache_url": REDIS_URL, "cache_prefix": prefix}
    first, second = await app_client(**env), await app_client(**env)
    token = fake_ledewire.issue_token("shared")

    assert (await first.get("/api/me", headers=bearer(token))).status == 200
    assert (await second.get("/api/me", headers=bearer(token))).status == 200

    assert fake_ledewire.balance_calls == 1
    assert await metric(second, "cache_hits_total", cache="token") == 1
    assert (await (await second.get("/api/health")).json())["cache_backend"] == "redis"


async def test_app_with_redis_down_still_validates_upstream(app_client, fake_ledewire, closed_port):
    client = await app_client(
        auth_mode="ledewire",
        ledewire_api_url=fake_ledewire.url,
        cache_url=f"redis://127.0.0.1:{closed_port}/0",
        redis_timeout=0.2,
    )
    token = fake_ledewire.issue_token("patient")

    statuses = [(await client.get("/api/me", headers=bearer(token))).status for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert fake_ledewire.balance_calls == 3
    assert await metric(client, "cache_errors_total", cache="token") >= 3


async def test_redis_keys_hold_a_hash_never_the_token(app_client, fake_ledewire, prefix):
    client = await app_client(
        auth_mode="ledewire", ledewire_api_url=fake_ledewire.url, cache_url=REDIS_URL, cache_prefix=prefix
    )
    token = fake_ledewire.issue_token("secretive")

    assert (await client.get("/api/me", headers=bearer(token))).status == 200

    redis_client = redis.from_url(REDIS_URL)
    try:
        keys = [key.decode() async for key in redis_client.scan_iter(match=f"{prefix}:*")]
    finally:
        await redis_client.aclose()
    assert len(keys) == 1
    assert keys[0].startswith(f"{prefix}:token:")
    assert len(keys[0].rsplit(":", 1)[1]) == 64
    assert token not in keys[0] and token.split(".")[1] not in keys[0]
