"""Retrying an upstream call: bounded attempts, exponential backoff with full jitter."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from multidict import CIMultiDictProxy

from .errors import UpstreamError, UpstreamTimeout
from .http import parse_retry_after

__all__ = ["RetryPolicy", "call_with_retries", "is_retryable_status"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    # A server's Retry-After is honoured up to this; past it we would rather fail fast.
    retry_after_cap: float = 20.0

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog): spreads retries of many clients apart."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class Answer(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...


A = TypeVar("A", bound=Answer)


def is_retryable_status(status: int) -> bool:
    # 529 is Anthropic's "overloaded"; every 5xx counts.
    return status == 429 or status >= 500


async def call_with_retries(
    send: Callable[[], Awaitable[A]],
    policy: RetryPolicy,
    retryable: Callable[[int], bool] = is_retryable_status,
) -> A:
    """The last response, retryable or not, once attempts run out.

    Connection failures are retried; a timeout is not, since each attempt already
    waited as long as a caller should.
    """
    for attempt in range(1, policy.attempts + 1):
        last = attempt == policy.attempts
        try:
            response = await send()
        except UpstreamTimeout:
            raise
        except UpstreamError:
            if last:
                raise
            delay = policy.backoff(attempt)
        else:
            if last or not retryable(response.status):
                return response
            delay = policy.backoff(attempt)
            hinted = parse_retry_after(response.headers.get("Retry-After", ""))
            if hinted is not None:
                delay = max(delay, min(hinted, policy.retry_after_cap))
        await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
