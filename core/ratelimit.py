"""Per-user rate limits: a token bucket each, in a bounded map."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .errors import RateLimited

__all__ = ["RateLimiter"]


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
