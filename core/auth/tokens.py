"""Bearer-token validation, cached by the token's hash and single-flight per token."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from ..cache import Cache
from ..errors import Unauthorized
from .identity import IdentityProvider, Principal

__all__ = ["TokenValidator"]

# Entries are plain dicts so that they survive any cache serializer (Redis too).
_USER, _EXP, _REJECTED = "u", "e", "r"


class TokenValidator:
    """A hit costs a hash and a cache read; a miss asks the provider once per token.

    The cache key is a SHA-256 of the issuer and the token: a raw token is a credential
    and never becomes a key. An accepted token is kept at most until its own exp; a token the
    authority rejected is kept for `rejection_ttl`, so a replayed bad token does not
    hit the upstream on every request.
    """

    def __init__(
        self,
        provider: IdentityProvider,
        cache: Cache[dict[str, Any]],
        *,
        rejection_ttl: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._provider = provider
        self._key_salt = provider.issuer.encode() + b"\0"
        self._cache = cache
        self._rejection_ttl = min(rejection_ttl, cache.ttl)
        self._clock = clock

    async def authenticate(self, token: str) -> Principal:
        key = hashlib.sha256(self._key_salt + token.encode()).hexdigest()
        entry = await self._cache.get_or_compute(key, lambda: self._verify(token), ttl=self._ttl)
        if entry.get(_REJECTED):
            raise Unauthorized("invalid token")
        expires_at = entry[_EXP]
        if expires_at <= self._clock():
            raise Unauthorized("token expired")
        return Principal(user_id=entry[_USER], expires_at=expires_at)

    async def _verify(self, token: str) -> dict[str, Any]:
        principal = await self._provider.verify(token)
        if principal is None:
            return {_REJECTED: True}
        return {_USER: principal.user_id, _EXP: principal.expires_at}

    def _ttl(self, entry: dict[str, Any]) -> float:
        if entry.get(_REJECTED):
            return self._rejection_ttl
        return min(self._cache.ttl, entry[_EXP] - self._clock())
