"""The embedded identity provider: in-memory accounts and HS256 tokens we sign."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from ..errors import CapacityExceeded, Conflict, Unauthorized
from .identity import Principal, TokenGrant
from .passwords import hash_password, verify_password

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
        self, secret: str, *, token_ttl: int, max_accounts: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self._token_ttl = token_ttl
        self._max_accounts = max_accounts
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        self._dummy_hash: bytes | None = None
        self._signup_lock = asyncio.Lock()

    async def signup(self, email: str, password: str, name: str | None) -> TokenGrant:
        email = email.strip().lower()
        if email in self._accounts:
            raise Conflict("an account with this email already exists")
        password_hash = await hash_password(password)
        # The hash ran in a thread; another signup may have taken the email meanwhile.
        async with self._signup_lock:
            if email in self._accounts:
                raise Conflict("an account with this email already exists")
            if len(self._accounts) >= self._max_accounts:
                raise CapacityExceeded("no more local accounts can be created")
            account = _Account(f"u_{secrets.token_hex(8)}", email, name, password_hash)
            self._accounts[email] = account
        return self._grant(account)

    async def login(self, email: str, password: str) -> TokenGrant:
        account = self._accounts.get(email.strip().lower())
        if account is None:
            # Hash anyway, so the answer's timing does not tell which emails exist.
            await verify_password(password, await self._dummy())
            raise Unauthorized(_BAD_CREDENTIALS)
        if not await verify_password(password, account.password_hash):
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

    def _grant(self, account: _Account) -> TokenGrant:
        now = int(self._clock())
        expires_at = now + self._token_ttl
        claims = {"sub": account.user_id, "email": account.email, "iss": ISSUER, "iat": now, "exp": expires_at}
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHMS[0])
        return TokenGrant(access_token=token, expires_at=expires_at, user_id=account.user_id)

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            self._dummy_hash = await hash_password(secrets.token_hex(16))
        return self._dummy_hash
