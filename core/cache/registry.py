"""Builds the named caches on the backend that CACHE_URL names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import redis.asyncio
from aiocache import RedisCache
from aiocache.serializers import BaseSerializer
from redis.asyncio.connection import parse_url

from .flight import RedisFlight
from .memory import BoundedMemoryCache
from .named import Cache

__all__ = ["CacheRegistry", "OrjsonSerializer", "RedisBackend", "redis_options"]


class OrjsonSerializer(BaseSerializer):
    """Bytes in and out: orjson is several times faster than the json module."""

    DEFAULT_ENCODING = None

    def dumps(self, value: Any) -> bytes:
        return orjson.dumps(value)

    def loads(self, value: bytes | None) -> Any:
        return None if value is None else orjson.loads(value)


def redis_options(url: str) -> dict[str, Any]:
    """Host, port, db and credentials from redis://[user:password@]host[:port][/db]."""
    database = urlsplit(url).path.strip("/")
    if database and not database.isdigit():
        raise ValueError("the Redis database must be a number, as in redis://host:6379/0")
    options = parse_url(url)
    return {
        "endpoint": options.get("host", "127.0.0.1"),
        "port": options.get("port", 6379),
        "db": options.get("db", 0),
        "password": options.get("password"),
        "username": options.get("username"),
    }


class RedisBackend(RedisCache):
    """aiocache's Redis backend, on redis-py's current API.

    aiocache 0.12 writes with SETEX/PSETEX and closes with close(), which newer
    redis-py deprecates; SET with PX is the same atomic write, in milliseconds.
    """

    async def _set(self, key: str, value: Any, ttl: float | None = None, _cas_token: Any = None, _conn: Any = None) -> Any:
        if _cas_token is not None:
            return await super()._set(key, value, ttl=ttl, _cas_token=_cas_token, _conn=_conn)
        if ttl is None:
            return await self.client.set(key, value)
        return await self.client.set(key, value, px=max(1, int(ttl * 1000)))

    async def _close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
        await self.client.aclose()


class CacheRegistry:
    """`memory://` gives each cache its own bounded store; `redis://` shares one pool.

    On Redis an entry cap is Redis' own memory policy (maxmemory, allkeys-lru),
    so `max_entries` applies to memory caches only.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "mpc",
        redis_timeout: float = 1.0,
        redis_pool_size: int = 50,
        lock_ttl: float = 5.0,
    ) -> None:
        parts = urlsplit(url)
        self._prefix = prefix
        self._caches: dict[str, Cache[Any]] = {}
        self._redis: RedisBackend | None = None
        self._flight: RedisFlight | None = None
        if parts.scheme == "redis":
            options = redis_options(url)
            username = options.pop("username")
            self._redis = RedisBackend(
                serializer=OrjsonSerializer(),
                pool_max_size=redis_pool_size,
                create_connection_timeout=redis_timeout,
                timeout=redis_timeout,
                # A full pool makes callers wait (up to the timeout) instead of failing at once.
                connection_pool_class=redis.asyncio.BlockingConnectionPool,
                connection_pool_kwargs={"timeout": redis_timeout, "username": username, "socket_timeout": redis_timeout},
                **options,
            )
            self._flight = RedisFlight(self._redis.client, lock_ttl=lock_ttl)
        elif parts.scheme != "memory":
            raise ValueError(f"unsupported cache URL scheme: {parts.scheme!r}")

    @property
    def backend_name(self) -> str:
        return "redis" if self._redis is not None else "memory"

    @property
    def redis(self) -> redis.asyncio.Redis | None:
        """The process's one Redis client (and pool), for the stores that share it; None on memory://."""
        return self._redis.client if self._redis is not None else None

    async def healthy(self) -> bool:
        """Whether the backend answers; memory always does."""
        if self._redis is None:
            return True
        try:
            return bool(await self._redis.client.ping())
        except Exception:  # noqa: BLE001 - any failure means not healthy
            return False

    def create(self, name: str, *, ttl: float, max_entries: int) -> Cache[Any]:
        if name in self._caches:
            raise ValueError(f"cache {name!r} exists already")
        if self._redis is not None:
            # Keys become "<prefix>:<name>:<key>"; aiocache's Redis backend adds the last ":".
            cache: Cache[Any] = Cache(name, self._redis, ttl, namespace=f"{self._prefix}:{name}", flight=self._flight)
        else:
            cache = Cache(name, BoundedMemoryCache(max_entries), ttl)
        self._caches[name] = cache
        return cache

    def __getitem__(self, name: str) -> Cache[Any]:
        return self._caches[name]

    def __iter__(self) -> Iterator[Cache[Any]]:
        return iter(self._caches.values())

    async def sweep(self) -> int:
        return sum([await cache.sweep() for cache in self._caches.values()])

    async def close(self) -> None:
        for cache in self._caches.values():
            await cache.close()
        if self._redis is not None:
            await self._redis.close()
