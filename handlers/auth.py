"""Sign-up and log-in; both answer with a bearer token."""

from __future__ import annotations

from aiohttp import web

from core.auth import TokenGrant
from core.errors import InvalidInput
from server.keys import identity_key

from .json import json_response, optional_string, read_json_object, required_string
from .timestamps import iso_utc

__all__ = ["login", "signup"]


async def signup(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    email, password = _credentials(data)
    if len(password) < 8:
        raise InvalidInput("password", "must be at least 8 characters long")
    name = optional_string(data, "name", max_len=200)
    grant = await request.config_dict[identity_key].signup(email, password, name)
    return json_response(_token_body(grant), status=201)


async def login(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    email, password = _credentials(data)
    grant = await request.config_dict[identity_key].login(email, password)
    return json_response(_token_body(grant))


def _credentials(data: dict[str, object]) -> tuple[str, str]:
    email = required_string(data, "email", min_len=3, max_len=254).strip()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput("email", "must be an email address")
    # The upper bound keeps a KDF from hashing megabytes on request.
    password = required_string(data, "password", max_len=1024)
    return email, password


def _token_body(grant: TokenGrant) -> dict[str, object]:
    body: dict[str, object] = {
        "access_token": grant.access_token,
        "token_type": "bearer",
        "expires_at": iso_utc(grant.expires_at),
        "user_id": grant.user_id,
    }
    if grant.refresh_token is not None:
        body["refresh_token"] = grant.refresh_token
    return body
