"""AUTH_MODE=local: accounts in memory, HS256 tokens this service signs."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from tests.conftest import TEST_SECRET, bearer, metric

CREDENTIALS = {"email": "Ada@Example.org", "password": "analytical engine"}


def forge(secret: str = TEST_SECRET, algorithm: str = "HS256", **overrides: object) -> str:
    now = int(time.time())
    claims = {"sub": "u_forged", "iss": "micropaymentcrawler", "iat": now, "exp": now + 600, **overrides}
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, secret if algorithm != "none" else None, algorithm=algorithm)


async def test_signup_login_and_me(app_client):
    client = await app_client()

    signup = await client.post("/api/auth/signup", json={**CREDENTIALS, "name": "Ada"})
    login = await client.post("/api/auth/login", json={**CREDENTIALS, "email": "ada@example.org"})

    assert signup.status == 201
    assert login.status == 200
    signed_up, logged_in = await signup.json(), await login.json()
    assert signed_up["user_id"] == logged_in["user_id"]
    assert logged_in["token_type"] == "bearer"
    assert logged_in["expires_at"].endswith("Z")
    me = await client.get("/api/me", headers=bearer(logged_in["access_token"]))
    assert me.status == 200
    assert await me.json() == {
        "user_id": logged_in["user_id"],
        "auth_mode": "local",
        "token_expires_at": logged_in["expires_at"],
    }


async def test_second_signup_with_same_email_is_409(app_client):
    client = await app_client()
    await client.post("/api/auth/signup", json=CREDENTIALS)

    again = await client.post("/api/auth/signup", json={**CREDENTIALS, "email": " ADA@example.org "})

    assert again.status == 409
    assert (await again.json())["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "attempt",
    [{**CREDENTIALS, "password": "wrong password"}, {**CREDENTIALS, "email": "nobody@example.org"}],
    ids=["wrong-password", "unknown-email"],
)
async def test_bad_credentials_are_401(app_client, attempt):
    client = await app_client()
    await client.post("/api/auth/signup", json=CREDENTIALS)

    response = await client.post("/api/auth/login", json=attempt)

    assert response.status == 401
    assert (await response.json())["error"]["message"] == "invalid email or password"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "long enough"}, "email"),
        ({"email": "no-at-sign", "password": "long enough"}, "email"),
        ({"email": 5, "password": "long enough"}, "email"),
        ({"email": "a@example.org"}, "password"),
        ({"email": "a@example.org", "password": "short"}, "password"),
        ({"email": "a@example.org", "password": ["not", "a", "string"]}, "password"),
        ({"email": "a@example.org", "password": "x" * 1025}, "password"),
        ({"email": "a@example.org", "password": "long enough", "name": 7}, "name"),
    ],
)
async def test_signup_rejects_bad_fields_naming_them(app_client, body, field):
    client = await app_client()

    response = await client.post("/api/auth/signup", json=body)

    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_input"
    assert error["message"].startswith(f"{field}:")


@pytest.mark.parametrize(
    "token",
    [
        forge(exp=int(time.time()) - 10),
        "not-a-jwt",
        "a.b.c",
        forge(algorithm="none"),
        forge(secret="another-secret-that-is-long-enough-too"),
        forge(algorithm="HS512"),
        forge(sub=None),
        forge(iat=None),
        forge(exp=None),
        forge(iss="someone-else"),
    ],
    ids=["expired", "garbled", "three-junk-parts", "alg-none", "wrong-signature", "other-alg", "no-sub",
         "no-iat", "no-exp", "wrong-issuer"],
)
async def test_invalid_tokens_are_401(app_client, token):
    client = await app_client()

    response = await client.get("/api/me", headers=bearer(token))

    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"])
async def test_missing_or_foreign_authorization_is_401(app_client, header):
    client = await app_client()

    response = await client.get("/api/me", headers={"Authorization": header} if header is not None else {})

    assert response.status == 401


async def test_forged_token_with_the_real_secret_is_accepted(app_client):
    """The contrast to the cases above: the same claims, correctly signed, pass."""
    client = await app_client()

    response = await client.get("/api/me", headers=bearer(forge()))

    assert response.status == 200
    assert (await response.json())["user_id"] == "u_forged"


async def test_a_validated_token_is_served_from_the_cache(app_client):
    client = await app_client()
    token = forge()

    for _ in range(5):
        assert (await client.get("/api/me", headers=bearer(token))).status == 200

    assert await metric(client, "cache_misses_total", cache="token") == 1
    assert await metric(client, "cache_hits_total", cache="token") == 4


async def test_account_cap_answers_503(app_client):
    client = await app_client(local_max_accounts=1)
    await client.post("/api/auth/signup", json=CREDENTIALS)

    response = await client.post("/api/auth/signup", json={**CREDENTIALS, "email": "bea@example.org"})

    assert response.status == 503
    assert (await response.json())["error"]["code"] == "capacity_exceeded"


async def test_public_routes_need_no_token(app_client):
    client = await app_client()

    assert (await client.get("/api/health")).status == 200
    assert (await client.get("/metrics")).status == 200


async def test_a_burst_of_signups_beyond_the_hashing_queue_gets_429_not_500(app_client):
    client = await app_client(password_hash_concurrency=1, password_hash_queue=2)

    responses = await asyncio.gather(
        *(client.post("/api/auth/signup", json={"email": f"u{n}@example.org", "password": "long enough"})
          for n in range(8))
    )

    statuses = sorted(response.status for response in responses)
    assert set(statuses) == {201, 429}
    assert statuses.count(201) >= 2
    refused = next(response for response in responses if response.status == 429)
    assert refused.headers["Retry-After"] == "1"


async def test_a_token_from_another_secret_is_refused_even_with_a_shared_cache(app_client):
    ours = await app_client()
    theirs = await app_client(auth_jwt_secret="another-secret-long-enough-for-every-hmac-algorithm-zz")
    token = (await (await theirs.post("/api/auth/signup", json=CREDENTIALS)).json())["access_token"]

    assert (await theirs.get("/api/me", headers=bearer(token))).status == 200
    assert (await ours.get("/api/me", headers=bearer(token))).status == 401
