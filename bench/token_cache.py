"""a. Token cache: identity calls saved, cached against uncached latency, and the cost of a hit."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiocache import SimpleMemoryCache

from core.auth import LocalIdentity, PasswordHasher, TokenValidator
from core.cache import BoundedMemoryCache, Cache
from tests.fakes.ledewire import FakeLedeWire

from .harness import SECRET, Size, bearer, fake_server, metric, mint_token, ms, percentile, service, table

IDENTITY_LATENCY = 0.150


async def run(size: Size) -> str:
    users, requests, concurrency = size.pick((50, 1000, 50), (50, 1000, 50), (5, 50, 5))
    probes = size.pick(200, 50, 5)
    async with fake_server(FakeLedeWire()) as fake:
        fake.latency = IDENTITY_LATENCY
        async with service(AUTH_MODE="ledewire", LEDEWIRE_API_URL=fake.url) as svc:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                calls = await _calls_per_traffic(session, svc.url, fake, users, requests, concurrency)
                cached, uncached = await _latencies(session, svc.url, fake, probes)
                hits = await metric(session, svc.url, "cache_hits_total", cache="token")
                misses = await metric(session, svc.url, "cache_misses_total", cache="token")
    micro = await _hit_costs(size.pick(200_000, 50_000, 1_000))
    goal = requests // 20
    rows = [[f"{requests} requests from {users} users, {concurrency} at a time", str(calls),
             f"≤ {goal} (a 95% cut; the seed claims 80%)", "met" if calls <= goal else "missed"]]
    latency_rows = [
        ["validation cached", ms(percentile(cached, 50)), ms(percentile(cached, 99))],
        ["validation not cached (a new token each time)", ms(percentile(uncached, 50)), ms(percentile(uncached, 99))],
    ]
    speedup = percentile(uncached, 50) / percentile(cached, 50)
    micro_rows = [[name, f"{cost:.2f} µs", f"{cost / micro[0][1]:.1f}×"] for name, cost in micro]
    return (
        f"### a. Token cache (AUTH_MODE=ledewire, fake identity service answering in {IDENTITY_LATENCY * 1000:.0f} ms)\n\n"
        + table(["traffic", "identity calls", "goal", ""], rows)
        + f"\n\nCache hits {hits:.0f}, misses {misses:.0f} (a request that waits on another's first check counts as a miss).\n\n"
        + table(["GET /api/me, sequential", "p50", "p99"], latency_rows)
        + f"\n\nUncached p50 / cached p50 = **{speedup:.0f}×**: a cached request skips the {IDENTITY_LATENCY * 1000:.0f} ms call.\n\n"
        + table(["one lookup, in process", "cost", "vs dict.get"], micro_rows)
        + "\n\nThe seed's goal for a hit is under 1 ms; every row is far below it. The service's memory cache skips "
        "aiocache's per-call wrappers (`wait_for` timeout, plugin hooks), which is the difference between its row "
        "and aiocache's own.\n"
    )


async def _calls_per_traffic(session: aiohttp.ClientSession, url: str, fake: FakeLedeWire, users: int,
                             requests: int, concurrency: int) -> int:
    tokens = [fake.issue_token(f"user{n}") for n in range(users)]
    gate = asyncio.Semaphore(concurrency)
    before = fake.balance_calls

    async def one(n: int) -> None:
        async with gate, session.get(f"{url}/api/me", headers=bearer(tokens[n % users])) as response:
            assert response.status == 200, await response.text()

    await asyncio.gather(*(one(n) for n in range(requests)))
    return fake.balance_calls - before


async def _latencies(session: aiohttp.ClientSession, url: str, fake: FakeLedeWire,
                     probes: int) -> tuple[list[float], list[float]]:
    warm = fake.issue_token("warm")
    cached, uncached = [], []
    for n in range(probes):
        for token, into in ((warm, cached), (fake.issue_token(f"cold{n}"), uncached)):
            started = time.perf_counter()
            async with session.get(f"{url}/api/me", headers=bearer(token)) as response:
                await response.read()
            into.append(time.perf_counter() - started)
    return cached[1:], uncached


async def _hit_costs(rounds: int) -> list[tuple[str, float]]:
    """µs per lookup of one present key, side by side in one run."""
    plain: dict[str, object] = {"k": {"u": "user", "e": 1.0}}
    ours = Cache("token", BoundedMemoryCache(10_000), 300)
    await ours.set("k", {"u": "user", "e": 1.0})
    theirs_default, theirs_no_timeout = SimpleMemoryCache(), SimpleMemoryCache(timeout=None)
    for cache in (theirs_default, theirs_no_timeout):
        await cache.set("k", {"u": "user", "e": 1.0})
    validator = TokenValidator(LocalIdentity(SECRET, PasswordHasher(), token_ttl=1800, max_accounts=1),
                               Cache("t", BoundedMemoryCache(10), 300))
    token = mint_token("micro")
    await validator.authenticate(token)

    async def timed(call) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        for _ in range(rounds):
            await call()
        return (time.perf_counter() - started) / rounds * 1e6

    async def dict_get() -> object:
        return plain.get("k")

    return [
        ("dict.get (in a coroutine)", await timed(dict_get)),
        ("our memory cache, Cache.get", await timed(lambda: ours.get("k"))),
        ("TokenValidator.authenticate, a hit (SHA-256 + Cache.get)", await timed(lambda: validator.authenticate(token))),
        ("aiocache SimpleMemoryCache.get, timeout=None", await timed(lambda: theirs_no_timeout.get("k"))),
        ("aiocache SimpleMemoryCache.get, default timeout", await timed(lambda: theirs_default.get("k"))),
    ]
