"""f. Search: first and repeated query latency over HTTP, the hit ratio, and the provider alone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from core.search import LocalSearch, SearchQuery, load_corpus
from server.settings import SHIPPED_CORPUS

from .harness import SMOKE, Size, local_token, ms, percentile, service, table

GOAL_MS = 50.0


def queries(size: Size | None = None) -> list[str]:
    """One query per corpus document: the first six words of its title."""
    texts = [" ".join(document.title.split()[:6]) for document in load_corpus(Path(SHIPPED_CORPUS))]
    return texts[:5] if size is SMOKE else texts


async def provider_p50(rounds: int) -> float:
    provider = LocalSearch(load_corpus(Path(SHIPPED_CORPUS)))
    samples = []
    for _ in range(rounds):
        for text in queries():
            started = time.perf_counter()
            await provider.search(SearchQuery(text))
            samples.append(time.perf_counter() - started)
    return percentile(samples, 50)


async def run(size: Size) -> str:
    texts = queries(size)
    first: list[float] = []
    repeated: list[float] = []
    async with service() as svc, aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await local_token(session, svc.url)}"}

        async def timed(text: str, into: list[float]) -> None:
            started = time.perf_counter()
            async with session.post(f"{svc.url}/api/search", json={"query": text}, headers=headers) as response:
                await response.read()
                assert response.status == 200
            into.append(time.perf_counter() - started)

        for text in texts:
            await timed(text, first)
        for _ in range(size.pick(5, 1, 1)):
            for text in texts:
                await timed(text, repeated)
        async with session.get(f"{svc.url}/metrics") as response:
            metrics = await response.text()
    hits = _sample(metrics, 'cache_hits_total{cache="search"}')
    misses = _sample(metrics, 'cache_misses_total{cache="search"}')
    provider = await provider_p50(size.pick(5, 1, 1))
    rows = [
        ["first query (miss), over HTTP", ms(percentile(first, 50)), ms(percentile(first, 99)), f"< {GOAL_MS:g} ms"],
        ["repeated query (hit), over HTTP", ms(percentile(repeated, 50)), ms(percentile(repeated, 99)), f"< {GOAL_MS:g} ms"],
        ["local provider alone, in process", ms(provider), "", ""],
    ]
    ratio = hits / (hits + misses)
    return (
        f"### f. Search ({len(texts)} distinct queries on the shipped corpus, sequential)\n\n"
        + table(["", "p50", "p99", "goal"], rows)
        + f"\n\nSearch cache hit ratio: {ratio:.2f} ({hits:.0f} hits, {misses:.0f} misses); "
        f"miss p50 / hit p50 = {percentile(first, 50) / percentile(repeated, 50):.2f}.\n"
    )


def _sample(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


if __name__ == "__main__":
    from .harness import QUICK

    print(asyncio.run(run(QUICK)))
