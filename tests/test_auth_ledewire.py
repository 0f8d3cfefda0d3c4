"""AUTH_MODE=ledewire: tokens proved by the fake wallet API, cached by hash."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from tests.conftest import AppClient, bearer, metric
from tests.fakes.ledewire import FakeLedeWire


async def ledewire_client(app_client: AppClient, fake: FakeLedeWire, **env: object):
    return await app_client(auth_mode="ledewire", ledewire_api_url=fake.url, **env)


async def test_concurrent_first_requests_make_one_upstream_call(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    fake_ledewire.latency = 0.05
    token = fake_ledewire.issue_token("alice")

    responses = await asyncio.gather(*(client.get("/api/me", headers=bearer(token)) for _ in range(100)))

    assert [r.status for r in responses] == [200] * 100
    assert fake_ledewire.balance_calls == 1


async def test_thousand_requests_from_twenty_users_cost_at_most_twenty_calls(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    fake_ledewire.latency = 0.15
    tokens = [fake_ledewire.issue_token(f"user{i}") for i in range(20)]
    gate = asyncio.Semaphore(100)

    async def one(n: int) -> int:
        async with gate:
            response = await client.get("/api/me", headers=bearer(tokens[n % 20]))
            return response.status

    statuses = await asyncio.gather(*(one(n) for n in range(1000)))

    assert statuses.count(200) == 1000
    assert fake_ledewire.balance_calls <= 20
    hits = await metric(client, "cache_hits_total", cache="token")
    misses = await metric(client, "cache_misses_total", cache="token")
    # Requests that arrive while a token's first check is in flight read a miss, then share its result.
    assert hits + misses == 1000
    assert hits >= 800


async def test_user_id_is_buyer_user_id_else_sub(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)

    with_buyer = await client.get("/api/me", headers=bearer(fake_ledewire.issue_token("bob")))
    without = await client.get("/api/me", headers=bearer(fake_ledewire.issue_token("carol", buyer_claims=False)))

    assert (await with_buyer.json())["user_id"] == "bob"
    assert (await without.json())["user_id"] == "sub-carol"
    assert (await with_buyer.json())["auth_mode"] == "ledewire"


async def test_expired_token_is_refused_without_an_upstream_call(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    token = fake_ledewire.issue_token("dave", ttl=-5)

    response = await client.get("/api/me", headers=bearer(token))

    assert response.status == 401
    assert (await response.json())["error"]["message"] == "token expired"
    assert fake_ledewire.balance_calls == 0


async def test_unsigned_and_garbled_tokens_never_reach_upstream(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    unsigned = jwt.encode({"sub": "x", "exp": time.time() + 60}, key=None, algorithm="none")

    for token in (unsigned, "garbage", "a.b.c"):
        response = await client.get("/api/me", headers=bearer(token))
        assert response.status == 401, token

    assert fake_ledewire.balance_calls == 0


async def test_rejection_is_cached_only_briefly(app_client, fake_ledewire):
    client = await ledewire_client(
        app_client, fake_ledewire, token_rejection_ttl=0.1, cache_sweep_interval=0.02
    )
    forged = jwt.encode({"sub": "mallory", "exp": time.time() + 600}, "not-the-real-key-" * 3, algorithm="HS256")

    first = await client.get("/api/me", headers=bearer(forged))
    second = await client.get("/api/me", headers=bearer(forged))
    assert (first.status, second.status) == (401, 401)
    assert fake_ledewire.balance_calls == 1

    await asyncio.sleep(0.2)
    third = await client.get("/api/me", headers=bearer(forged))
    assert third.status == 401
    assert fake_ledewire.balance_calls == 2


async def test_entry_is_expired_by_the_sweeper(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire, token_cache_ttl=0.1, cache_sweep_interval=0.02)
    token = fake_ledewire.issue_token("erin")

    assert (await client.get("/api/me", headers=bearer(token))).status == 200
    assert await metric(client, "cache_entries", cache="token") == 1

    await asyncio.sleep(0.25)
    # Read the count before any request could touch the entry: only the sweeper removed it.
    assert await metric(client, "cache_entries", cache="token") == 0
    assert await metric(client, "cache_expired_total", cache="token") == 1
    assert await metric(client, "cache_sweeps_total") >= 2

    assert (await client.get("/api/me", headers=bearer(token))).status == 200
    assert fake_ledewire.balance_calls == 2


async def test_entry_lives_no_longer_than_the_token(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire, token_cache_ttl=300, cache_sweep_interval=0.02)
    token = fake_ledewire.issue_token("frank", ttl=0.3)

    assert (await client.get("/api/me", headers=bearer(token))).status == 200
    await asyncio.sleep(0.45)

    assert await metric(client, "cache_entries", cache="token") == 0
    response = await client.get("/api/me", headers=bearer(token))
    assert response.status == 401
    assert fake_ledewire.balance_calls == 1


async def test_cache_holds_at_most_token_cache_max(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire, token_cache_max=20)

    for n in range(70):
        response = await client.get("/api/me", headers=bearer(fake_ledewire.issue_token(f"u{n}")))
        assert response.status == 200

    assert await metric(client, "cache_entries", cache="token") == 20
    assert await metric(client, "cache_evictions_total", cache="token") == 50


async def test_upstream_refusing_connections_gives_503(app_client, closed_port):
    client = await app_client(auth_mode="ledewire", ledewire_api_url=f"http://127.0.0.1:{closed_port}")
    token = FakeLedeWire().issue_token("gina")

    response = await client.get("/api/me", headers=bearer(token))

    assert response.status == 503
    body = await response.json()
    assert body["error"]["code"] == "upstream_unavailable"
    assert "cannot validate the token" in body["error"]["message"]


async def test_upstream_5xx_gives_503_and_is_not_cached(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    token = fake_ledewire.issue_token("hank")
    fake_ledewire.outage_status = 500

    assert (await client.get("/api/me", headers=bearer(token))).status == 503
    assert (await client.get("/api/me", headers=bearer(token))).status == 503
    assert fake_ledewire.balance_calls == 2

    fake_ledewire.outage_status = None
    assert (await client.get("/api/me", headers=bearer(token))).status == 200
    assert await metric(client, "upstream_errors_total", service="ledewire") == 2


async def test_slow_upstream_gives_503_within_the_timeout(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire, auth_upstream_timeout=0.1)
    fake_ledewire.latency = 2.0

    response = await client.get("/api/me", headers=bearer(fake_ledewire.issue_token("ivy")))

    assert response.status == 503
    assert "no answer within 0.1 s" in (await response.json())["error"]["message"]


async def test_login_and_signup_are_proxied(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    credentials = {"email": "jo@example.org", "password": "long enough password"}

    signup = await client.post("/api/auth/signup", json={**credentials, "name": "Jo"})
    again = await client.post("/api/auth/signup", json=credentials)
    login = await client.post("/api/auth/login", json=credentials)
    wrong = await client.post("/api/auth/login", json={**credentials, "password": "not the password"})
    unknown = await client.post("/api/auth/login", json={**credentials, "email": "nobody@example.org"})

    assert signup.status == 201
    assert again.status == 409
    assert login.status == 200
    assert (wrong.status, unknown.status) == (401, 401)
    body = await login.json()
    assert body["token_type"] == "bearer"
    assert body["user_id"] == "lw-1"
    assert body["refresh_token"] == "refresh-lw-1"
    me = await client.get("/api/me", headers=bearer(body["access_token"]))
    assert (await me.json())["user_id"] == "lw-1"


async def test_login_with_identity_service_down_gives_503(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    fake_ledewire.outage_status = 502

    response = await client.post("/api/auth/login", json={"email": "a@example.org", "password": "whatever12"})

    assert response.status == 503
    assert (await response.json())["error"]["code"] == "upstream_unavailable"



async def test_identity_service_rate_limit_passes_on_as_429(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    fake_ledewire.outage_status = 429
    fake_ledewire.outage_headers = {"Retry-After": "7"}

    response = await client.post("/api/auth/login", json={"email": "a@example.org", "password": "whatever12"})

    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    assert (await response.json())["error"]["code"] == "rate_limited"


async def test_identity_service_answering_outside_its_protocol_is_502(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    fake_ledewire.garbled = True

    response = await client.post("/api/auth/login", json={"email": "a@example.org", "password": "whatever12"})

    assert response.status == 502
    assert (await response.json())["error"]["code"] == "upstream_bad_response"


async def test_a_forged_token_never_passes_on_an_odd_200(app_client, fake_ledewire):
    client = await ledewire_client(app_client, fake_ledewire)
    forged = jwt.encode({"sub": "root", "exp": time.time() + 600}, "attacker-key-" * 4, algorithm="HS256")

    fake_ledewire.garbled = True
    garbled = await client.get("/api/me", headers=bearer(forged))
    fake_ledewire.garbled, fake_ledewire.redirect = False, True
    redirected = await client.get("/api/me", headers=bearer(forged))

    assert (garbled.status, redirected.status) == (503, 503)
    assert fake_ledewire.balance_calls == 2  # neither answer was cached


@pytest.mark.parametrize(("retry_after", "expected"), [("7", "7"), ("9" * 400, "3600"), ("²", "1"), ("soon", "1")])
async def test_token_check_rate_limited_upstream_gives_429_with_a_sane_retry_after(
    app_client, fake_ledewire, retry_after, expected
):
    client = await ledewire_client(app_client, fake_ledewire)
    fake_ledewire.outage_status = 429
    fake_ledewire.outage_headers = {"Retry-After": retry_after}

    response = await client.get("/api/me", headers=bearer(fake_ledewire.issue_token("kim")))

    assert response.status == 429
    assert response.headers["Retry-After"] == expected
    assert (await response.json())["error"]["code"] == "rate_limited"
