"""What an identity provider offers, whichever authority stands behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["IdentityProvider", "Principal", "TokenGrant"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A user proved by a validated token."""

    user_id: str
    expires_at: float  # the token's exp, seconds since the epoch


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    expires_at: float
    user_id: str
    refresh_token: str | None = None


class IdentityProvider(Protocol):
    mode: str
    # Who vouches for the tokens. It is part of every token-cache key, so instances with
    # another secret or authority never accept each other's cached tokens.
    issuer: str

    async def signup(self, email: str, password: str, name: str | None) -> TokenGrant: ...

    async def login(self, email: str, password: str) -> TokenGrant: ...

    async def verify(self, token: str) -> Principal | None:
        """Principal if valid; None if the authority rejected it (worth caching briefly).

        Raises Unauthorized for a token that is invalid on its face (no point caching),
        and an Upstream* error when the authority cannot be asked.
        """
        ...
