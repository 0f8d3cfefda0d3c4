"""Single flight across processes: one computation per key cluster-wide, held by a Redis lock."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio

__all__ = ["RedisFlight"]

log = logging.getLogger(__name__)

V = TypeVar("V")

# Both act only if the lock is still ours: it may have expired and been taken by another.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"


class RedisFlight:
    """The first process to SET NX the lock computes; the others poll for its result.

    The holder renews its lock while it computes, so a long computation (a report) is
    still done once. A holder that dies stops renewing, and blocks nobody for longer
    than `lock_ttl`: the lock expires and a waiter takes over. A holder that fails
    releases the lock without a value, and a waiter tries in its turn. No waiter waits
    past `max_wait`, and any Redis fault falls back to computing locally.
    """

    def __init__(
        self, client: redis.asyncio.Redis, *, lock_ttl: float = 5.0, max_wait: float = 300.0, poll: float = 0.02
    ) -> None:
        self._client = client
        self._lock_ttl = lock_ttl
        self._max_wait = max_wait
        self._poll = poll

    async def run(self, lock_key: str, compute: Callable[[], Awaitable[V]], read: Callable[[], Awaitable[V | None]]) -> V:
        token = secrets.token_hex(8)
        for _ in range(2):  # our turn, then once more if the holder failed or died
            try:
                acquired = await self._client.set(lock_key, token, nx=True, px=int(self._lock_ttl * 1000))
            except Exception as exc:  # noqa: BLE001 - Redis down: compute here, as a lone process would
                log.warning("flight lock %s unavailable: %r", lock_key, exc)
                return await compute()
            if acquired:
                keepalive = asyncio.create_task(self._renew(lock_key, token))
                try:
                    return await compute()
                finally:
                    keepalive.cancel()
                    await self._release(lock_key, token)
            value = await self._await_holder(lock_key, read)
            if value is not None:
                return value
        return await compute()

    async def _renew(self, lock_key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lock_ttl / 3)
            try:
                await self._client.eval(_RENEW, 1, lock_key, token, int(self._lock_ttl * 1000))
            except Exception as exc:  # noqa: BLE001 - if the lock lapses, another may compute too
                log.warning("could not renew %s: %r", lock_key, exc)

    async def _await_holder(self, lock_key: str, read: Callable[[], Awaitable[V | None]]) -> V | None:
        """The holder's result; None once the lock is gone without one, or after max_wait."""
        deadline = time.monotonic() + self._max_wait
        while time.monotonic() < deadline:
            await asyncio.sleep(self._poll)
            value = await read()
            if value is not None:
                return value
            try:
                if not await self._client.exists(lock_key):
                    return await read()  # released: a value, or the holder failed
            except Exception:  # noqa: BLE001
                return None
        return None

    async def _release(self, lock_key: str, token: str) -> None:
        try:
            await self._client.eval(_RELEASE, 1, lock_key, token)
        except Exception as exc:  # noqa: BLE001 - the lock expires by itself
            log.warning("could not release %s: %r", lock_key, exc)
