"""g. Scale with users: throughput and latency of mixed traffic (chat, search, history) at 10, 100 and
1,000 concurrent users, and how the p99 grows with them."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import aiohttp

from .harness import Size, bearer, mint_token, ms, percentile, service, table

KINDS = ("chat", "search", "history")
MESSAGES = [
    "What changed in energy policy after 2022?",
    "How did central banks fight inflation?",
    "What did public health agencies learn from the pandemic?",
    "How is AI being regulated?",
    "How are cities adapting to climate change?",
]
QUERIES = [
    "nuclear phase-out",
    "negative interest rates",
    "pandemic preparedness",
    "AI Act",
    "flood defences",
    "carbon pricing",
    "vaccine uptake",
    "heat waves",
]
TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class _Level:
    users: int
    elapsed: float = 0.0
    service_cpu: float = 0.0
    client_cpu: float = 0.0
    other_cpu: float = 0.0
    latency: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: int = 0

    @property
    def every(self) -> list[float]:
        return [sample for kind in KINDS for sample in self.latency[kind]]


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent on anything but idling, so far."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


async def _level(session: aiohttp.ClientSession, url: str, pid: int, users: int, duration: float) -> _Level:
    """`users` users, each sending chat, search and history requests back to back for `duration` seconds."""
    level = _Level(users)
    headers = [bearer(mint_token(f"scale-{users}-{i}")) for i in range(users)]

    async def send(kind: str, step: int, i: int) -> int:
        if kind == "chat":
            request = session.post(f"{url}/api/chat", json={"message": MESSAGES[step % len(MESSAGES)]},
                                   headers=headers[i])
        elif kind == "search":
            request = session.post(f"{url}/api/search", json={"query": QUERIES[step % len(QUERIES)]},
                                   headers=headers[i])
        else:
            request = session.get(f"{url}/api/chat/history", headers=headers[i])
        async with request as response:
            await response.read()
            return response.status

    async def user(i: int, deadline: float) -> None:
        step = i  # users start at different points of the mix
        while time.perf_counter() < deadline:
            kind = KINDS[step % len(KINDS)]
            started = time.perf_counter()
            try:
                status = await send(kind, step // len(KINDS), i)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                status = 0
            level.latency[kind].append(time.perf_counter() - started)
            level.errors += not 200 <= status < 300
            step += 1

    # Untimed: every user's connection is opened (and its token validated) before the clock starts.
    await asyncio.gather(*(send("history", 0, i) for i in range(users)))
    service_cpu, client_cpu, machine = _cpu_seconds(pid), time.process_time(), _machine_busy_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(user(i, started + duration) for i in range(users)))
    level.elapsed = time.perf_counter() - started
    level.service_cpu = (_cpu_seconds(pid) - service_cpu) / level.elapsed
    level.client_cpu = (time.process_time() - client_cpu) / level.elapsed
    level.other_cpu = max(0.0, (_machine_busy_seconds() - machine) / level.elapsed - level.service_cpu
                          - level.client_cpu)
    return level


async def run(size: Size) -> str:
    levels = size.pick((10, 100, 1000), (10, 100), (3,))
    duration = size.pick(8.0, 3.0, 0.5)
    results: list[_Level] = []
    async with service(CONVERSATION_MAX_USERS="5000") as svc, aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=TIMEOUT
    ) as session:
        for users in levels:
            results.append(await _level(session, svc.url, svc.process.pid, users, duration))
    base = percentile(results[0].every, 99)
    rows = []
    for level in results:
        every = level.every
        p99 = percentile(every, 99)
        rows.append([f"{level.users:,}", f"{len(every) / level.elapsed:,.0f}", ms(percentile(every, 50)), ms(p99),
                     f"{p99 / base:.1f}×", str(level.errors),
                     f"{level.service_cpu:.0%} / {level.client_cpu:.0%} / {level.other_cpu:.0%}"])
    by_kind = [[f"{level.users:,}"] + [f"{ms(percentile(level.latency[kind], 50))} / "
                                        f"{ms(percentile(level.latency[kind], 99))}" for kind in KINDS]
               for level in results]
    return (
        f"### g. Scale with users (mixed chat, search and history, {duration:g} s a level, local providers)\n\n"
        + table(["users", "requests/s", "p50", "p99", f"p99 vs {results[0].users:,} users", "errors (non-2xx)",
                 "CPU: service / load generator / rest of the machine"], rows)
        + "\n\nEach user sends POST /api/chat, POST /api/search and GET /api/chat/history in turn, back to back, "
        "over a connection opened before the clock. Once the service's one event loop is saturated, requests/s "
        "stays flat and latency grows in proportion to the users: the figure to read is how the p99 grows. "
        f"CPU is a share of one core, out of {os.cpu_count()}: the load generator runs on the same cores as the "
        "service, so at high user counts it takes CPU the service would otherwise have, and anything else "
        "running on the machine (the last figure) skews the run.\n\n"
        + table(["users", *(f"{kind} p50 / p99" for kind in KINDS)], by_kind)
        + "\n\nThe same requests by kind: where the latency is spent.\n"
    )


if __name__ == "__main__":
    from .harness import QUICK

    print(asyncio.run(run(QUICK)))
