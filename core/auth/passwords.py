"""Password hashing with scrypt, a memory-hard KDF, under admission control."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os

from ..errors import RateLimited

__all__ = ["PasswordHasher"]

# n=2**14, r=8: about 16 MiB and tens of milliseconds per hash, OWASP's floor for scrypt.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16


def _derive(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32)


class PasswordHasher:
    """At most `concurrency` hashes run at once, in threads, and at most `max_waiting`
    requests wait for one; past that a sign-in is refused with 429.

    Each hash costs 16 MiB and a core for tens of milliseconds, so without a bound a
    burst of sign-ups would be a cheap way to exhaust memory and CPU.
    """

    def __init__(self, *, concurrency: int = 2, max_waiting: int = 64) -> None:
        self._gate = asyncio.Semaphore(concurrency)
        self._max_waiting = max_waiting
        self._admitted = 0

    async def hash(self, password: str) -> bytes:
        """salt + key."""
        salt = os.urandom(_SALT_BYTES)
        return salt + await self._run(password, salt)

    async def verify(self, password: str, stored: bytes) -> bool:
        salt, key = stored[:_SALT_BYTES], stored[_SALT_BYTES:]
        return hmac.compare_digest(await self._run(password, salt), key)

    async def _run(self, password: str, salt: bytes) -> bytes:
        if self._admitted >= self._max_waiting:
            raise RateLimited("too many sign-ins at once; retry in a moment", retry_after=1.0)
        self._admitted += 1
        try:
            async with self._gate:
                return await asyncio.to_thread(_derive, password, salt)
        finally:
            self._admitted -= 1
