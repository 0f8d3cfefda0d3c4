"""The embedded identity provider: in-memory accounts and HS256 tokens we sign."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from ..errors import CapacityExceeded, Conflict, Unauthorized
from .identity import Principal, TokenGrant
from .passwords import PasswordHasher

__all__ = ["LocalIdentity"]

ISSUER = "micropaymentcrawler"
# A fixed list: the token's own header never chooses the algorithm (no "none", no RS/HS confusion).
ALGORITHMS = ["HS256"]
REQUIRED_CLAIMS = ["exp", "iat", "sub"]
_BAD_CREDENTIALS = "invalid email or password"


@dataclass(frozen=True, slots=True)
class _Account:
    user_id: str
    email: str
    name: str | None
    password_hash: bytes


class LocalIdentity:
    """Accounts live in this process only and are gone after a restart."""

    mode = "local"

    def __init__(
        self,
        secret: str,
        hasher: PasswordHasher,
        *,
        token_ttl: int,
        max_accounts: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.issuer = "local:" + hashlib.sha256(secret.encode()).hexdigest()[:16]
        self._hasher = hasher
        self._token_ttl = token_ttl
        self._max_accounts = max_accounts
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        self._dummy_hash: bytes | None = None

    async def signup(self, email: str, password: str, name: str | None) -> TokenGrant:
        email = email.strip().lower()
        self._check_room(email)
        password_hash = await self._hasher.hash(password)
        # The hash ran in a thread; another signup may have taken the email meanwhile.
        # No await from here on, so the check and the insert cannot interleave.
        self._check_room(email)
        account = _Account(f"u_{secrets.token_hex(8)}", email, name, password_hash)
        self._accounts[email] = account
        return self._grant(account)

    async def login(self, email: str, password: str) -> TokenGrant:
        account = self._accounts.get(email.strip().lower())
        if account is None:
            # Hash anyway, so the answer's timing does not tell which emails exist.
            await self._hasher.verify(password, await self._dummy())
            raise Unauthorized(_BAD_CREDENTIALS)
        if not await self._hasher.verify(password, account.password_hash):
            raise Unauthorized(_BAD_CREDENTIALS)
        return self._grant(account)

    async def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=ALGORITHMS,
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("invalid token") from None
        return Principal(user_id=str(claims["sub"]), expires_at=float(claims["exp"]))

    def _check_room(self, email: str) -> None:
        if email in self._accounts:
            raise Conflict("an account with this email already exists")
        if len(self._accounts) >= self._max_accounts:
            raise CapacityExceeded("no more local accounts can be created")

    def _grant(self, account: _Account) -> TokenGrant:
        now = int(self._clock())
        expires_at = now + self._token_ttl
        claims = {"sub": account.user_id, "email": account.email, "iss": ISSUER, "iat": now, "exp": expires_at}
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHMS[0])
        return TokenGrant(access_token=token, expires_at=expires_at, user_id=account.user_id)

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_hex(16))
        return self._dummy_hash
