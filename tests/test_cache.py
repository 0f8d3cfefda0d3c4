"""The cache layer's contract on the bounded memory backend."""

from __future__ import annotations

import asyncio

import pytest

from core.cache import BoundedMemoryCache, Cache


def memory_cache(ttl: float = 60.0, max_entries: int = 100) -> Cache[object]:
    return Cache("test", BoundedMemoryCache(max_entries), ttl)


async def test_an_expired_entry_is_never_returned_even_before_a_sweep():
    cache = memory_cache(ttl=0.05)
    await cache.set("k", "v")
    assert await cache.get("k") == "v"

    await asyncio.sleep(0.08)

    assert await cache.get("k") is None
    assert cache.stats.expired == 1
    assert cache.stats.entries == 0


async def test_sweep_removes_only_what_has_expired():
    cache = memory_cache()
    for key in "abc":
        await cache.set(key, key, ttl=0.02)
    await cache.set("kept", "kept")
    await asyncio.sleep(0.04)

    assert await cache.sweep() == 3
    assert cache.stats.entries == 1
    assert await cache.get("kept") == "kept"


async def test_the_least_recently_used_entry_goes_first_when_full():
    cache = memory_cache(max_entries=3)
    for key in "abc":
        await cache.set(key, key)
    await cache.get("a")

    await cache.set("d", "d")

    assert await cache.get("b") is None
    assert [await cache.get(key) for key in "acd"] == ["a", "c", "d"]
    assert cache.stats.evictions == 1
    assert cache.stats.entries == 3


async def test_counters_count_hits_and_misses():
    cache = memory_cache()
    await cache.set("k", 1)

    await cache.get("k")
    await cache.get("k")
    await cache.get("absent")

    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


async def test_ttl_may_be_chosen_from_the_value():
    cache = memory_cache()

    await cache.set("short", {"ttl": 0.02}, ttl=lambda value: value["ttl"])
    await cache.set("never", {"ttl": 0}, ttl=lambda value: value["ttl"])
    await asyncio.sleep(0.04)

    assert await cache.get("short") is None
    assert await cache.get("never") is None
    assert cache.stats.entries == 0


class GatedFactory:
    """A factory that counts its calls and holds every call until released."""

    def __init__(self, outcome: object) -> None:
        self.outcome = outcome
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> object:
        self.calls += 1
        await self.release.wait()
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


async def concurrent_fills(cache: Cache[object], factory: GatedFactory, waiters: int) -> list[object]:
    tasks = [asyncio.create_task(cache.get_or_compute("k", factory)) for _ in range(waiters)]
    await asyncio.sleep(0)
    factory.release.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_concurrent_misses_run_the_factory_once():
    cache = memory_cache()
    factory = GatedFactory("computed")

    assert await concurrent_fills(cache, factory, 50) == ["computed"] * 50
    assert factory.calls == 1
    assert await cache.get_or_compute("k", factory) == "computed"
    assert factory.calls == 1


async def test_a_failing_factory_reaches_every_waiter_and_caches_nothing():
    cache = memory_cache()
    factory = GatedFactory(LookupError("upstream said no"))

    results = await concurrent_fills(cache, factory, 10)

    assert factory.calls == 1
    assert all(isinstance(result, LookupError) for result in results)
    assert cache.stats.entries == 0

    async def working() -> str:
        return "second try"

    assert await cache.get_or_compute("k", working) == "second try"


async def test_one_waiter_giving_up_does_not_cancel_the_others():
    cache = memory_cache()
    release = asyncio.Event()

    async def factory() -> str:
        await release.wait()
        return "done"

    impatient = asyncio.create_task(cache.get_or_compute("k", factory))
    patient = asyncio.create_task(cache.get_or_compute("k", factory))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()

    assert await patient == "done"
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert await cache.get("k") == "done"


async def test_close_cancels_fills_in_flight():
    cache = memory_cache()
    never = asyncio.Event()

    async def factory() -> str:
        await never.wait()
        return "unreachable"

    waiter = asyncio.create_task(cache.get_or_compute("k", factory))
    await asyncio.sleep(0)

    await cache.close()

    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_a_cache_needs_room_for_one_entry():
    with pytest.raises(ValueError):
        BoundedMemoryCache(0)
