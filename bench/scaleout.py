"""Scale-out on Redis: a hit on Redis against memory, two instances against one, identity calls."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
import uuid

import aiohttp
import redis.asyncio

from core.cache import CacheRegistry
from tests.fakes.ledewire import FakeLedeWire

from .harness import Size, bearer, fake_server, mint_token, service, table

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


async def run(size: Size) -> str:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    seconds = size.pick(5, 2, 0.3)
    try:
        memory_hit, redis_hit = await _hit_costs(prefix, size.pick(20_000, 5_000, 200))
        one, two = await _throughput(prefix, seconds)
        calls_one, calls_two = await _identity_calls(prefix, size.pick((50, 1000), (50, 1000), (5, 50)))
    finally:
        await _forget(prefix)
    hit_rows = [["memory://", f"{memory_hit:.1f} µs", "1.0×"],
                ["redis:// (loopback)", f"{redis_hit:.1f} µs", f"{redis_hit / memory_hit:.0f}×"]]
    scale_rows = [["1 instance", f"{one:,.0f}", "1.00"], ["2 instances", f"{two:,.0f}", f"{two / one:.2f}"]]
    call_rows = [["1 instance", str(calls_one)], ["2 instances, requests alternating", str(calls_two)]]
    return (
        "### Scale-out on Redis\n\n"
        + table(["token-cache hit, in process", "cost per lookup", "vs memory"], hit_rows)
        + "\n\nA Redis hit is a network round trip; it is still far under the 150 ms identity call it saves.\n\n"
        + table(["GET /api/chat/history, cached token, CACHE_URL=redis://", "requests/s", "vs 1"], scale_rows)
        + f"\n\nTwo instances serve {two / one:.2f}× one instance's requests. On Redis each request waits on "
        "round trips (the token, the history), and two processes overlap those waits; the load generator and "
        "Redis share this machine's 2 cores with them, which caps the gain.\n\n"
        + table(["the same traffic (users, requests as in a.)", "identity calls"], call_rows)
        + "\n\nThe second instance finds tokens the first validated in Redis, and cross-instance single flight "
        "stops concurrent first requests from calling twice.\n"
    )


async def _forget(prefix: str) -> None:
    """Delete what the run left in Redis."""
    client = redis.asyncio.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _hit_costs(prefix: str, rounds: int) -> tuple[float, float]:
    costs = []
    for url in ("memory://", REDIS_URL):
        caches = CacheRegistry(url, prefix=prefix)
        cache = caches.create("token", ttl=60, max_entries=100)
        await cache.set("k", {"u": "user", "e": 1.0})
        started = time.perf_counter()
        for _ in range(rounds):
            await cache.get("k")
        costs.append((time.perf_counter() - started) / rounds * 1e6)
        await cache.delete("k")
        await caches.close()
    return costs[0], costs[1]


async def _throughput(prefix: str, seconds: float) -> tuple[float, float]:
    env = {"CACHE_URL": REDIS_URL, "CACHE_PREFIX": prefix}
    token = mint_token("bench-scale")
    async with service(**env) as first, service(**env) as second:
        async with aiohttp.ClientSession() as session:
            for svc in (first, second):
                async with session.get(f"{svc.url}/api/chat/history", headers=bearer(token)) as response:
                    assert response.status == 200
        alone = await _load([first.url], token, seconds)
        together = await _load([first.url, second.url], token, seconds)
    return alone, together


async def _load(urls: list[str], token: str, seconds: float) -> float:
    """Requests/s over all `urls` at once, 50 connections in all."""
    wrk = shutil.which("wrk")
    connections = 50 // len(urls)
    if wrk:
        async def one(url: str) -> float:
            command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                       "-H", f"Authorization: Bearer {token}", f"{url}/api/chat/history"]
            done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)
            return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]

        return sum(await asyncio.gather(*(one(url) for url in urls)))
    count = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker(url: str) -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                async with session.get(f"{url}/api/chat/history", headers=bearer(token)) as response:
                    await response.read()
                count += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(url) for url in urls for _ in range(connections)))
        return count / (time.perf_counter() - started)


async def _identity_calls(prefix: str, shape: tuple[int, int]) -> tuple[int, int]:
    users, requests = shape
    results = []
    for instances in (1, 2):
        async with fake_server(FakeLedeWire()) as fake:
            fake.latency = 0.150
            env = {"CACHE_URL": REDIS_URL, "CACHE_PREFIX": f"{prefix}-{instances}", "AUTH_MODE": "ledewire",
                   "LEDEWIRE_API_URL": fake.url}
            async with service(**env) as first, service(**env) as second:
                urls = [first.url, second.url][:instances]
                tokens = [fake.issue_token(f"user{n}") for n in range(users)]
                gate = asyncio.Semaphore(50)
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

                    async def one(n: int) -> None:
                        url = urls[n % len(urls)]
                        async with gate, session.get(f"{url}/api/me", headers=bearer(tokens[n % users])) as response:
                            assert response.status == 200

                    await asyncio.gather(*(one(n) for n in range(requests)))
            results.append(fake.balance_calls)
    return results[0], results[1]
