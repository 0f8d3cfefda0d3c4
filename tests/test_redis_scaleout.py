"""Two instances on one Redis behave as one: tokens, conversations, reports, limits, and outages."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess

import pytest
import redis.asyncio as redis

from core.cache import CacheRegistry
from tests.conftest import REDIS_URL, bearer, metric
from tests.test_auth_local import forge
from tests.test_reports import QUERY, cite_what_you_are_given, outline

pytestmark = pytest.mark.redis

ALICE = bearer(forge(sub="alice"))


@pytest.fixture
def shared(app_client, prefix):
    """Build app instances that share one Redis under this test's prefix."""

    async def instance(**env):
        return await app_client(cache_url=REDIS_URL, cache_prefix=prefix, **env)

    return instance


async def say(client, text, headers=ALICE):
    return await client.post("/api/chat", json={"message": text}, headers=headers)


async def history(client, headers=ALICE):
    return await (await client.get("/api/chat/history", headers=headers)).json()


async def test_concurrent_first_requests_on_two_instances_make_one_upstream_call(shared, fake_ledewire):
    env = {"auth_mode": "ledewire", "ledewire_api_url": fake_ledewire.url}
    first, second = await shared(**env), await shared(**env)
    fake_ledewire.latency = 0.2
    token = fake_ledewire.issue_token("shared-user")

    responses = await asyncio.gather(
        *(client.get("/api/me", headers=bearer(token)) for client in [first, second] * 20)
    )

    assert {response.status for response in responses} == {200}
    assert fake_ledewire.balance_calls == 1


async def test_a_conversation_started_on_one_instance_continues_on_the_other(shared):
    first, second = await shared(), await shared()

    await say(first, "What did the Bank of Japan change in 2024?")
    continued = await (await say(second, "And what about yield curve control?")).json()

    assert continued["conversation_length"] == 4
    messages = (await history(first))["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2]["content"] == "And what about yield curve control?"


async def test_conversation_bounds_hold_on_redis(shared):
    client = await shared(conversation_max_users=3, cache_sweep_interval=0.05)
    for n in range(30):
        await say(client, f"question {n} on flood defences")

    kept = (await history(client))["messages"]
    others = [bearer(forge(sub=f"user{n}")) for n in range(4)]
    for headers in others:
        await say(client, "a question on carbon prices", headers)
    lengths = [(await history(client, headers))["length"] for headers in [ALICE, *others]]

    assert len(kept) == 50 and kept[0]["content"] == "question 5 on flood defences"
    assert lengths == [0, 0, 2, 2, 2]  # the least recently active went first
    await asyncio.sleep(0.15)
    assert await metric(client, "conversation_users") == 3
    assert await metric(client, "conversation_users_evicted_total") == 2


async def test_idle_conversations_expire_on_redis(shared):
    client = await shared(conversation_idle_ttl=0.2, cache_sweep_interval=0.05)
    await say(client, "a question on mangroves")

    await asyncio.sleep(0.5)

    assert (await history(client))["length"] == 0
    assert await metric(client, "conversation_users") == 0
    assert await metric(client, "conversation_users_expired_total") == 1


async def test_a_report_made_on_one_instance_is_a_cache_hit_on_the_other(shared):
    first, second = await shared(), await shared()
    body = {"query": "What do sponge cities do about urban flooding?"}

    made = await (await first.post("/api/reports", json=body, headers=ALICE)).json()
    again = await (await second.post("/api/reports", json=body, headers=ALICE)).json()

    assert (made["cached"], again["cached"]) == (False, True)
    assert again["sections"] == made["sections"]


async def test_a_running_report_is_visible_through_the_other_instance(shared, fake_openai):
    env = {"llm_provider": "openai", "openai_base_url": fake_openai.url}
    first, second = await shared(**env), await shared(**env)
    fake_openai.reply = cite_what_you_are_given
    fake_openai.latency = 0.15

    accepted = await (await first.post("/api/reports", json={"query": QUERY, "outline": outline(4)},
                                       headers={**ALICE, "Prefer": "respond-async"})).json()
    running = await (await second.get(accepted["status_url"], headers=ALICE)).json()
    for _ in range(100):
        finished = await (await second.get(accepted["status_url"], headers=ALICE)).json()
        if finished["status"] != "running":
            break
        await asyncio.sleep(0.05)

    assert running["status"] == "running" and running["sections_total"] == 4
    assert finished["status"] == "complete" and len(finished["sections"]) == 4


async def test_the_rate_limit_holds_across_instances(shared):
    first, second = await shared(chat_rate_limit=3), await shared(chat_rate_limit=3)

    statuses = [(await say(client, "a question on inflation")).status for client in (first, second, first, second)]

    assert statuses == [200, 200, 200, 429]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            subprocess.run(["sleep", "0.02"])
    server.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
async def test_the_service_degrades_without_redis_and_recovers(app_client, prefix):
    port = free_port()
    server = start_redis(port)
    try:
        client = await app_client(cache_url=f"redis://127.0.0.1:{port}/0", cache_prefix=prefix, redis_timeout=0.2)
        assert (await say(client, "before the outage")).status == 200

        server.kill()
        server.wait()
        health = await (await client.get("/api/health")).json()
        me = await client.get("/api/me", headers=ALICE)
        chat = await say(client, "during the outage")
        search = await client.post("/api/search", json={"query": "inflation"}, headers=ALICE)

        assert health["status"] == "degraded"
        assert me.status == 200  # tokens are checked without the cache: slower, still correct
        assert chat.status == 503 and (await chat.json())["error"]["code"] == "upstream_unavailable"
        assert search.status == 200
        assert await metric(client, "cache_errors_total", cache="token") >= 1
        assert await metric(client, "conversation_store_errors_total") >= 1

        server = start_redis(port)
        assert (await (await client.get("/api/health")).json())["status"] == "ok"
        assert (await say(client, "after the outage")).status == 200
    finally:
        server.kill()
        server.wait()


async def test_a_long_computation_is_done_once_across_processes(prefix):
    # Two registries stand for two processes; the work outlasts the lock's TTL many times.
    first, second = (CacheRegistry(REDIS_URL, prefix=prefix, lock_ttl=0.15) for _ in range(2))
    caches = [registry.create("report", ttl=30, max_entries=10) for registry in (first, second)]
    calls = 0

    async def slow_report() -> dict[str, str]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.6)
        return {"report": "done"}

    try:
        results = await asyncio.gather(*(cache.get_or_compute("key", slow_report) for cache in caches))
    finally:
        await first.close()
        await second.close()

    assert results == [{"report": "done"}] * 2
    assert calls == 1


async def test_a_dead_lock_holder_blocks_no_longer_than_the_lock_ttl(prefix):
    registry = CacheRegistry(REDIS_URL, prefix=prefix, lock_ttl=0.3)
    cache = registry.create("token", ttl=30, max_entries=10)
    dead = redis.from_url(REDIS_URL)
    # A holder that took the lock and died: nobody renews or releases it.
    await dead.set(f"{prefix}:token:lock:key", "gone", px=300)

    async def compute() -> dict[str, int]:
        return {"v": 1}

    try:
        # Unbounded, this would wait for ever; the lock expires after 0.3 s.
        assert await asyncio.wait_for(cache.get_or_compute("key", compute), timeout=3) == {"v": 1}
    finally:
        await dead.aclose()
        await registry.close()
