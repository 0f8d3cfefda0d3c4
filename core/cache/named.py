"""One named cache per use, over any aiocache backend, with single-flight fills."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiocache.base import BaseCache

from ..errors import UpstreamUnavailable
from .flight import RedisFlight
from .memory import BoundedMemoryCache

__all__ = ["Cache", "CacheStats", "Ttl"]

log = logging.getLogger(__name__)

V = TypeVar("V")
# A fixed ttl, or one chosen from the value (a token's entry must die with the token).
Ttl = float | Callable[[Any], float]


@dataclass(frozen=True, slots=True)
class CacheStats:
    name: str
    hits: int
    misses: int
    evictions: int
    expired: int
    errors: int
    entries: int | None  # None where the backend cannot count cheaply (Redis)


class Cache(Generic[V]):
    """Values must not be None: None is how a miss reads.

    A failing backend (Redis down) reads as a miss and a skipped write, so callers
    fall through to the upstream rather than fail.
    """

    def __init__(
        self,
        name: str,
        backend: BaseCache,
        ttl: float,
        namespace: str | None = None,
        flight: RedisFlight | None = None,
    ) -> None:
        self.name = name
        self.ttl = ttl
        self._backend = backend
        self._namespace = namespace
        self._flight = flight
        # A memory backend answers without I/O: read it directly, skipping a layer of awaits on
        # the hot path (every authenticated request reads the token cache).
        self._read_now = backend.peek if isinstance(backend, BoundedMemoryCache) and namespace is None else None
        self._inflight: dict[str, asyncio.Task[V]] = {}
        self.hits = 0
        self.misses = 0
        self.errors = 0

    @property
    def stats(self) -> CacheStats:
        backend = self._backend
        bounded = isinstance(backend, BoundedMemoryCache)
        return CacheStats(
            name=self.name,
            hits=self.hits,
            misses=self.misses,
            evictions=backend.evictions if bounded else 0,
            expired=backend.expired if bounded else 0,
            errors=self.errors,
            entries=len(backend) if bounded else None,
        )

    async def get(self, key: str) -> V | None:
        if self._read_now is not None:
            value = self._read_now(key)
        else:
            try:
                value = await self._backend.get(key, namespace=self._namespace)
            except Exception as exc:  # noqa: BLE001 - any backend failure degrades to a miss
                self._backend_failed("get", exc)
                value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    async def set(self, key: str, value: V, ttl: Ttl | None = None, *, required: bool = False) -> None:
        """Store `value`. A failing backend skips the write, unless the write is `required`:
        then it raises UpstreamUnavailable, for records that must not silently vanish."""
        seconds = self._seconds(ttl, value)
        if seconds <= 0:
            return
        try:
            await self._backend.set(key, value, ttl=seconds, namespace=self._namespace)
        except Exception as exc:  # noqa: BLE001
            self._backend_failed("set", exc)
            if required:
                raise UpstreamUnavailable("cache", f"the {self.name} store is unavailable; try again shortly") from None

    async def delete(self, key: str) -> None:
        try:
            await self._backend.delete(key, namespace=self._namespace)
        except Exception as exc:  # noqa: BLE001
            self._backend_failed("delete", exc)

    async def get_or_compute(
        self, key: str, factory: Callable[[], Awaitable[V]], ttl: Ttl | None = None
    ) -> V:
        """Return the cached value, or run `factory` once for all concurrent callers.

        The factory runs in its own task, so one caller giving up does not cancel
        the others' result. If it raises, every waiter gets the error and nothing
        is cached.
        """
        task = self._inflight.get(key)
        if task is not None:
            self.misses += 1  # no value yet: this caller joins the fill under way
        else:
            value = await self.get(key)
            if value is not None:
                return value
            # The read may have yielded (Redis) while another caller started a fill.
            task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fill(key, factory, ttl))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._fill_done(key, done))
        return await asyncio.shield(task)

    async def sweep(self) -> int:
        """Remove expired entries where the backend needs it; Redis expires on its own."""
        if isinstance(self._backend, BoundedMemoryCache):
            return await self._backend.sweep()
        return 0

    async def close(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fill(self, key: str, factory: Callable[[], Awaitable[V]], ttl: Ttl | None) -> V:
        if self._flight is None:
            return await self._compute(key, factory, ttl)
        # Other processes share this cache: one of them computes, the rest read its result.
        return await self._flight.run(
            f"{self._namespace}:lock:{key}", lambda: self._compute(key, factory, ttl), lambda: self._peek(key)
        )

    async def _compute(self, key: str, factory: Callable[[], Awaitable[V]], ttl: Ttl | None) -> V:
        value = await factory()
        await self.set(key, value, ttl)
        return value

    async def _peek(self, key: str) -> V | None:
        """A read that counts in no statistic: the polling of a waiting process."""
        try:
            return await self._backend.get(key, namespace=self._namespace)
        except Exception as exc:  # noqa: BLE001
            self._backend_failed("get", exc)
            return None

    def _fill_done(self, key: str, task: asyncio.Task[V]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        # Waiters may all have gone; mark the error seen so the loop does not log it.
        if not task.cancelled():
            task.exception()

    def _seconds(self, ttl: Ttl | None, value: V) -> float:
        if ttl is None:
            return self.ttl
        if callable(ttl):
            return ttl(value)
        return ttl

    def _backend_failed(self, operation: str, exc: Exception) -> None:
        self.errors += 1
        log.warning("cache %s: %s failed: %r", self.name, operation, exc)
