"""A fake LedeWire identity and wallet API: a real aiohttp app that counts its calls."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
from aiohttp import web

__all__ = ["FakeLedeWire"]

# The fake's own signing key; the service under test never sees it.
SIGNING_KEY = "fake-ledewire-signing-key-0123456789abcdef"


class FakeLedeWire:
    """Tokens it issues are valid until their exp; anything else answers 401.

    `latency` delays every answer; `outage_status` makes every call answer that status.
    """

    def __init__(self) -> None:
        self.url = ""  # set once the server is listening
        self.latency = 0.0
        self.outage_status: int | None = None
        self.outage_headers: dict[str, str] = {}
        self.garbled = False  # answer 200 with an HTML page instead of JSON
        self.redirect = False  # answer 302 to a page that says 200
        self.balance_calls = 0
        self.login_calls = 0
        self.accounts: dict[str, tuple[str, str]] = {}  # email -> (password, user_id)

    def issue_token(self, user_id: str, *, ttl: float = 1800.0, buyer_claims: bool = True) -> str:
        now = time.time()
        claims: dict[str, Any] = {
            "sub": f"sub-{user_id}",
            "role": "buyer",
            "iss": "LedeWire API",
            "aud": "web",
            "iat": int(now),
            "exp": now + ttl,
        }
        if buyer_claims:
            claims["buyer_claims"] = {"user_id": user_id, "email": f"{user_id}@example.org"}
        return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/wallet/balance", self._balance)
        app.router.add_get("/elsewhere", self._elsewhere)
        app.router.add_post("/v1/auth/login/email", self._login)
        app.router.add_post("/v1/auth/signup", self._signup)
        return app

    async def _answer(self) -> web.Response | None:
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.outage_status is not None:
            return web.json_response({"error": "unavailable"}, status=self.outage_status, headers=self.outage_headers)
        if self.garbled:
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        return None

    async def _balance(self, request: web.Request) -> web.Response:
        self.balance_calls += 1
        if (failure := await self._answer()) is not None:
            return failure
        if self.redirect:
            raise web.HTTPFound("/elsewhere")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            # exp is checked by hand: PyJWT truncates a fractional exp to whole seconds.
            claims = jwt.decode(token, SIGNING_KEY, algorithms=["HS256"], audience="web", options={"verify_exp": False})
        except jwt.InvalidTokenError:
            return web.json_response({"error": "invalid token"}, status=401)
        if claims["exp"] <= time.time():
            return web.json_response({"error": "token expired"}, status=401)
        return web.json_response({"balance_cents": 1250})

    async def _elsewhere(self, request: web.Request) -> web.Response:
        return web.json_response({"balance_cents": 0})

    async def _login(self, request: web.Request) -> web.Response:
        self.login_calls += 1
        if (failure := await self._answer()) is not None:
            return failure
        body = await request.json()
        account = self.accounts.get(body.get("email"))
        if account is None:
            return web.json_response({"error": "invalid email or password"}, status=404)
        if account[0] != body.get("password"):
            return web.json_response({"error": "invalid credentials"}, status=401)
        return self._session(account[1])

    async def _signup(self, request: web.Request) -> web.Response:
        if (failure := await self._answer()) is not None:
            return failure
        body = await request.json()
        if not body.get("email") or not body.get("password"):
            return web.json_response({"message": "email and password are required"}, status=400)
        if body["email"] in self.accounts:
            return web.json_response({"error": "account exists"}, status=409)
        user_id = f"lw-{len(self.accounts) + 1}"
        self.accounts[body["email"]] = (body["password"], user_id)
        return self._session(user_id)

    def _session(self, user_id: str) -> web.Response:
        token = self.issue_token(user_id)
        expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
        return web.json_response({"access_token": token, "refresh_token": f"refresh-{user_id}", "expires_at": expires_at})
