"""c. Chat: the server's overhead over a slow model at 50, 200 and 500 concurrent users, over HTTP and the
websocket, and the local provider's latency."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import aiohttp

from tests.fakes.llm import FakeOpenAI

from .harness import Service, Size, bearer, fake_server, mint_token, ms, percentile, service, table

LOCAL_GOAL_MS = 50.0  # the issue: local chat answers in well under 50 ms
SEED_CLAIM = "50–150 ms"  # what the seed document claims a chat answer takes
DEFAULT_POOL = 100  # UPSTREAM_POOL_SIZE's default: the most model calls in flight at once
LIFTED_POOL = 1000
TIMEOUT = aiohttp.ClientTimeout(total=120)
QUESTIONS = [
    "What did Germany's nuclear phase-out mean for its energy policy?",
    "How are governments paying for the energy transition?",
    "How did the ECB leave negative interest rates?",
    "Why did the Bank of Japan end yield curve control?",
    "What did the pandemic teach public health agencies about surveillance?",
    "How are countries preparing hospitals for heat waves?",
    "What does the EU AI Act require of general-purpose models?",
    "How do AI regulation approaches differ between the US and Europe?",
    "Which cities are leading on climate adaptation and flood defences?",
    "How is climate adaptation financed in developing countries?",
]


class _Burst:
    """One burst's latencies in seconds (model time included), and the requests that failed."""

    def __init__(self) -> None:
        self.first: list[float] = []
        self.done: list[float] = []
        self.errors = 0


async def _http_burst(session: aiohttp.ClientSession, url: str, headers: list[dict[str, str]]) -> _Burst:
    """Every user sends one POST /api/chat at the same moment."""
    burst = _Burst()

    async def one(i: int) -> None:
        started = time.perf_counter()
        try:
            async with session.post(f"{url}/api/chat", json={"message": QUESTIONS[i % len(QUESTIONS)]},
                                    headers=headers[i]) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            ok = False
        if ok:
            burst.done.append(time.perf_counter() - started)
        else:
            burst.errors += 1

    await asyncio.gather(*(one(i) for i in range(len(headers))))
    return burst


async def _ws_burst(sockets: list[aiohttp.ClientWebSocketResponse]) -> _Burst:
    """Every open socket sends one message at the same moment; time to its first delta and to done."""
    burst = _Burst()

    async def one(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        started = time.perf_counter()
        first = None
        try:
            await ws.send_json({"type": "message", "text": QUESTIONS[i % len(QUESTIONS)]})
            while (frame := await ws.receive_json())["type"] == "delta":
                if first is None:
                    first = time.perf_counter() - started
        except (aiohttp.ClientError, asyncio.TimeoutError, TypeError, ValueError):
            frame = {"type": "error"}
        if frame["type"] == "done" and first is not None:
            burst.first.append(first)
            burst.done.append(time.perf_counter() - started)
        else:
            burst.errors += 1

    await asyncio.gather(*(one(i, ws) for i, ws in enumerate(sockets)))
    return burst


def _over(samples: list[float], latency: float) -> list[str]:
    """p50 and p99 of the overhead: each latency minus the model's."""
    return [ms(percentile(samples, q) - latency) for q in (50, 99)]


async def _remote(svc: Service, fake: FakeOpenAI, pool: int, levels: tuple[int, ...],
                  http_rows: list[list[str]], ws_rows: list[list[str]]) -> None:
    """Both transports at each level against a service whose UPSTREAM_POOL_SIZE is `pool`.

    Each level runs a burst first, untimed, so that every user's connection (or socket) and the service's
    connections to the model are open when the timed burst starts: the figures are the steady state."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=TIMEOUT) as session:
        for users in levels:
            headers = [bearer(mint_token(f"chat-http-{pool}-{users}-{i}")) for i in range(users)]
            await _http_burst(session, svc.url, headers)
            fake.max_in_flight = 0
            got = await _http_burst(session, svc.url, headers)
            http_rows.append([str(users), str(pool), *_over(got.done, fake.latency), str(fake.max_in_flight),
                              str(got.errors)])
        for users in levels:
            sockets = await asyncio.gather(*(
                session.ws_connect(f"{svc.url}/ws/chat?token={mint_token(f'chat-ws-{pool}-{users}-{i}')}")
                for i in range(users)
            ))
            try:
                await _ws_burst(sockets)
                fake.max_in_flight = 0
                got = await _ws_burst(sockets)
            finally:
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            ws_rows.append([str(users), str(pool), *_over(got.first, fake.latency), *_over(got.done, fake.latency),
                            str(fake.max_in_flight), str(got.errors)])


async def _local(svc: Service, requests: int) -> list[float]:
    """Sequential HTTP chat from one user against the embedded extractive writer."""
    samples: list[float] = []
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        headers = bearer(mint_token("chat-local"))
        for i in range(requests):
            started = time.perf_counter()
            async with session.post(f"{svc.url}/api/chat", json={"message": QUESTIONS[i % len(QUESTIONS)]},
                                    headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            samples.append(time.perf_counter() - started)
    return samples


async def run(size: Size) -> str:
    levels = size.pick((50, 200, 500), (50, 200), (5,))
    # Above the default pool, the overhead is mostly waiting for a connection to the model: those levels run
    # again with the pool lifted, to show what the server itself adds.
    over_pool = tuple(users for users in levels if users > DEFAULT_POOL)
    fake = FakeOpenAI()
    fake.latency = size.pick(0.3, 0.3, 0.05)  # before the response headers, streaming or not
    http_rows: list[list[str]] = []
    ws_rows: list[list[str]] = []
    async with fake_server(fake), AsyncExitStack() as stack:
        remote = {"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": fake.url, "CONVERSATION_MAX_USERS": "10000"}
        # Started together, before any clock runs; an idle service costs the others nothing.
        started = await asyncio.gather(
            stack.enter_async_context(service(**remote, UPSTREAM_POOL_SIZE=str(DEFAULT_POOL))),
            stack.enter_async_context(service()),
            stack.enter_async_context(service(**remote, UPSTREAM_POOL_SIZE=str(LIFTED_POOL)))
            if over_pool else asyncio.sleep(0),
            return_exceptions=True,  # every start finishes, so the stack stops each one that did start
        )
        for failure in (item for item in started if isinstance(item, BaseException)):
            raise failure
        pooled, local, lifted = started
        await _remote(pooled, fake, DEFAULT_POOL, levels, http_rows, ws_rows)
        if over_pool:
            await _remote(lifted, fake, LIFTED_POOL, over_pool, http_rows, ws_rows)
        samples = await _local(local, size.pick(200, 50, 5))
    local_row = [f"local provider, POST /api/chat ({len(samples)} sequential, one user)",
                 ms(percentile(samples, 50)), ms(percentile(samples, 99)),
                 f"< {LOCAL_GOAL_MS:g} ms (seed document: {SEED_CLAIM})"]
    model = f"{fake.latency * 1000:g} ms"
    return (
        f"### c. Chat (server overhead over a fake OpenAI-compatible model that takes {model})\n\n"
        + table(["users at once", "UPSTREAM_POOL_SIZE", "overhead p50", "overhead p99",
                 "model calls in flight (max)", "errors"], http_rows)
        + f"\n\nPOST /api/chat, every user sending one message at the same moment over an open connection. "
        f"Overhead is each request's latency minus the model's {model}. At most `UPSTREAM_POOL_SIZE` model "
        f"calls are in flight; the rest wait for a connection, so past {DEFAULT_POOL} users the overhead grows "
        f"in steps of {model}, and the rows with the pool lifted show what the server itself adds.\n\n"
        + table(["users at once", "UPSTREAM_POOL_SIZE", "first delta p50", "first delta p99", "done p50",
                 "done p99", "model calls in flight (max)", "errors"], ws_rows)
        + "\n\nThe chat websocket: sockets opened first, then every user sends a message at once; each figure is "
        f"the time to that frame minus the model's {model}. Done minus first delta is the streaming of the "
        "reply itself.\n\n"
        + table(["", "p50", "p99", "goal"], [local_row])
        + "\n\nThe embedded extractive writer (no model upstream), total latency over HTTP; the questions "
        "cycle through the corpus topics.\n\n"
        "Client, fake model and service share the machine's cores, so a burst's overhead is mostly its "
        "requests queueing for the CPU, in the service's one event loop and in the client's.\n"
    )


if __name__ == "__main__":
    from .harness import QUICK

    print(asyncio.run(run(QUICK)))
