"""LedeWire as the identity authority: login and signup proxied, tokens checked upstream."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt

from ..errors import (
    Conflict,
    InvalidInput,
    RateLimited,
    Unauthorized,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ..http import UpstreamResponse, call_upstream, parse_retry_after
from .identity import Principal, TokenGrant

__all__ = ["LedeWireIdentity", "read_unverified_claims"]

SERVICE = "ledewire"
# We do not hold LedeWire's key, so the signature is proved by the upstream call.
# The header is still checked so that an unsigned ("none") token never costs a call.
_SIGNED_ALGORITHMS = frozenset({"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"})


def read_unverified_claims(token: str, now: float) -> tuple[str, float]:
    """The user id and exp of a token, or Unauthorized if it is void on its face."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid token") from None
    if header.get("alg") not in _SIGNED_ALGORITHMS:
        raise Unauthorized("invalid token: unsigned or unknown algorithm")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise Unauthorized("invalid token: no exp claim")
    if exp <= now:
        raise Unauthorized("token expired")
    buyer = claims.get("buyer_claims")
    user_id = buyer.get("user_id") if isinstance(buyer, dict) else None
    user_id = user_id or claims.get("sub")
    if not isinstance(user_id, (str, int)) or isinstance(user_id, bool) or user_id == "":
        raise Unauthorized("invalid token: no subject")
    return str(user_id), float(exp)


class LedeWireIdentity:
    mode = "ledewire"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self.issuer = f"ledewire:{self._base_url}"
        self._timeout = timeout
        self._clock = clock

    async def signup(self, email: str, password: str, name: str | None) -> TokenGrant:
        body: dict[str, Any] = {"email": email, "password": password, "name": name or ""}
        return await self._grant("/v1/auth/signup", body)

    async def login(self, email: str, password: str) -> TokenGrant:
        return await self._grant("/v1/auth/login/email", {"email": email, "password": password})

    async def verify(self, token: str) -> Principal | None:
        user_id, exp = read_unverified_claims(token, self._clock())
        resp = await self._call("GET", "/v1/wallet/balance", headers={"Authorization": f"Bearer {token}"})
        if resp.status == 401:
            return None
        if resp.status != 200:
            raise _unexpected(resp)
        # Only the documented answer proves the token; any other 200 (a maintenance or
        # proxy page) proves nothing, and must never let a forged token in.
        balance = resp.json()
        if not isinstance(balance, dict) or "balance_cents" not in balance:
            raise UpstreamBadResponse(SERVICE, "balance answer without balance_cents")
        return Principal(user_id=user_id, expires_at=exp)

    async def _grant(self, path: str, body: dict[str, Any]) -> TokenGrant:
        resp = await self._call("POST", path, json=body)
        if resp.status == 200 or resp.status == 201:
            data = resp.json()
            token = data.get("access_token") if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise UpstreamBadResponse(SERVICE, "login answer without an access_token")
            try:
                user_id, exp = read_unverified_claims(token, self._clock())
            except Unauthorized:
                raise UpstreamBadResponse(SERVICE, "login answer with an unusable access_token") from None
            refresh = data.get("refresh_token")
            return TokenGrant(token, exp, user_id, refresh if isinstance(refresh, str) else None)
        if resp.status in (401, 404):
            raise Unauthorized("invalid email or password")
        if resp.status == 409:
            raise Conflict("an account with this email already exists")
        if resp.status in (400, 422):
            raise InvalidInput("body", f"rejected by the identity service: {_upstream_message(resp)}")
        raise _unexpected(resp)

    async def _call(self, method: str, path: str, **kwargs: Any) -> UpstreamResponse:
        try:
            return await call_upstream(
                self._session, method, self._base_url + path, service=SERVICE, timeout=self._timeout, **kwargs
            )
        except UpstreamTimeout:
            raise
        except UpstreamError as exc:
            # Without the identity service nobody can sign in: the service is unavailable.
            raise UpstreamUnavailable(SERVICE, exc.detail) from None


def _unexpected(resp: UpstreamResponse) -> Exception:
    if resp.status == 429:
        seconds = parse_retry_after(resp.headers.get("Retry-After", "")) or 1.0
        return RateLimited("the identity service is rate limiting us", retry_after=seconds)
    if resp.status >= 500:
        return UpstreamUnavailable(SERVICE, f"HTTP {resp.status}")
    return UpstreamBadResponse(SERVICE, f"unexpected HTTP {resp.status}")


def _upstream_message(resp: UpstreamResponse) -> str:
    try:
        data = resp.json()
    except UpstreamBadResponse:
        return f"HTTP {resp.status}"
    if isinstance(data, dict):
        message = data.get("message") or data.get("error")
        if isinstance(message, str):
            return message[:200]
    return f"HTTP {resp.status}"
