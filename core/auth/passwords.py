"""Password hashing with scrypt, a memory-hard KDF from the standard library."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os

__all__ = ["hash_password", "verify_password"]

# n=2**14, r=8: about 16 MiB and tens of milliseconds per hash, OWASP's floor for scrypt.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16


def _derive(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32)


async def hash_password(password: str) -> bytes:
    """Return salt + key. Runs in a thread: a hash would stall the event loop."""
    salt = os.urandom(_SALT_BYTES)
    key = await asyncio.to_thread(_derive, password, salt)
    return salt + key


async def verify_password(password: str, stored: bytes) -> bool:
    salt, key = stored[:_SALT_BYTES], stored[_SALT_BYTES:]
    candidate = await asyncio.to_thread(_derive, password, salt)
    return hmac.compare_digest(candidate, key)
