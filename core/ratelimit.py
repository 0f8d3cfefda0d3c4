"""Per-user rate limits: a token bucket each, in a bounded map."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from .errors import RateLimited

__all__ = ["Limiter", "RateLimiter", "RedisRateLimiter"]

log = logging.getLogger(__name__)


class Limiter(Protocol):
    async def hit(self, key: str, what: str = "requests") -> None:
        """Count one event for `key`, or raise RateLimited."""
        ...

    async def sweep(self) -> int: ...


class RateLimiter:
    """`per_minute` events a minute per key, with bursts up to the same number.

    Buckets sit in order of last use; at `max_keys` the stalest goes (its owner
    merely gets a fresh bucket), and the sweep drops buckets that have refilled,
    since a full bucket and no bucket mean the same.
    """

    def __init__(
        self, *, per_minute: int, max_keys: int = 100_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._max_keys = max_keys
        self._monotonic = monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated)

    def __len__(self) -> int:
        return len(self._buckets)

    async def hit(self, key: str, what: str = "requests") -> None:
        """Take one token for `key`, or raise RateLimited saying when one is back."""
        now = self._monotonic()
        tokens, updated = self._buckets.get(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - updated) * self._rate)
        if tokens < 1.0:
            raise RateLimited(
                f"too many {what}: at most {self._capacity:g} a minute", retry_after=(1.0 - tokens) / self._rate
            )
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)

    async def sweep(self) -> int:
        now = self._monotonic()
        removed = 0
        while self._buckets:
            key, (tokens, updated) = next(iter(self._buckets.items()))
            if tokens + (now - updated) * self._rate < self._capacity:
                break
            del self._buckets[key]
            removed += 1
        return removed


# KEYS: the bucket. ARGV: capacity, tokens per millisecond. Returns {allowed, ms until a token}.
_TAKE = """
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - updated) * rate)
if tokens < 1 then
  return {0, math.ceil((1 - tokens) / rate)}
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'updated', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate))
return {1, 0}
"""


class RedisRateLimiter:
    """The same token bucket, kept in Redis so that a limit holds across instances.

    The script reads Redis' own clock, so instances with skewed clocks agree. A bucket
    expires once it would be full again. If Redis fails, requests are let through:
    a limit is not worth an outage.
    """

    def __init__(self, client: Any, *, prefix: str, per_minute: int) -> None:
        self._capacity = per_minute
        self._rate_ms = per_minute / 60_000
        self._prefix = f"{prefix}:rate:"
        self._take = client.register_script(_TAKE)
        self.errors = 0

    async def hit(self, key: str, what: str = "requests") -> None:
        try:
            allowed, wait_ms = await self._take(keys=[self._prefix + what + ":" + key],
                                                args=[self._capacity, self._rate_ms])
        except Exception as exc:  # noqa: BLE001
            self.errors += 1
            log.warning("rate limiter unavailable, letting the request through: %r", exc)
            return
        if not allowed:
            raise RateLimited(f"too many {what}: at most {self._capacity} a minute", retry_after=int(wait_ms) / 1000)

    async def sweep(self) -> int:
        return 0  # buckets expire in Redis
