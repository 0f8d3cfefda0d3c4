"""Shared pieces of the benchmarks: the service as a real process, timing, and the report."""

from __future__ import annotations

import asyncio
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-bench-secret-bench-secret-0123456789"


@dataclass(frozen=True)
class Size:
    """How big a run is: `full` for make bench, `quick` for make bench-quick, `smoke` for the test
    suite, which only checks that the benchmark code still runs."""

    name: str

    def pick(self, full: Any, quick: Any, smoke: Any) -> Any:
        return {"full": full, "quick": quick, "smoke": smoke}[self.name]


FULL, QUICK, SMOKE = Size("full"), Size("quick"), Size("smoke")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")


@asynccontextmanager
async def service(**env: str) -> AsyncIterator[Service]:
    """run.py in its own process, configured only through the environment, as deployed."""
    port = free_port()
    # Rate limits would measure themselves, not the service: they are lifted unless a benchmark sets them.
    environ = {**os.environ, "PORT": str(port), "ACCESS_LOG": "false", "LOG_LEVEL": "WARNING",
               "AUTH_JWT_SECRET": SECRET, "CHAT_RATE_LIMIT": "100000", "SEARCH_RATE_LIMIT": "100000", **env}
    # The log goes to a file, not a pipe: a pipe nobody reads fills up and stalls the service.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=environ,
                               stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"service exited: {log.read().decode()[-500:]}")
                try:
                    async with session.get(f"{url}/api/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the service did not answer /api/health within 15 s")
        yield Service(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def local_token(session: aiohttp.ClientSession, url: str, email: str = "bench@example.org") -> str:
    credentials = {"email": email, "password": "benchmark password"}
    async with session.post(f"{url}/api/auth/signup", json=credentials) as response:
        if response.status == 201:
            return (await response.json())["access_token"]
    async with session.post(f"{url}/api/auth/login", json=credentials) as response:
        return (await response.json())["access_token"]


@asynccontextmanager
async def fake_server(fake: Any) -> AsyncIterator[Any]:
    """A fake upstream from tests/fakes (an object with .app() and .url) served on loopback."""
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def mint_token(user_id: str, ttl: float = 3600.0) -> str:
    """A local-mode token for `user_id`, signed with the secret `service()` gives the server,
    so that a benchmark need not sign up thousands of users."""
    now = int(time.time())
    claims = {"sub": user_id, "iss": "micropaymentcrawler", "iat": now, "exp": now + int(ttl)}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def metric(session: aiohttp.ClientSession, url: str, name: str, **labels: str) -> float | None:
    """One sample from the service's /metrics."""
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in
                         ("aiohttp", "aiocache", "pyjwt", "orjson", "prometheus-client", "redis"))
    model = "unknown CPU"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1)  # type: ignore[union-attr]
    except (OSError, AttributeError):
        pass
    return (f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {packages}; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def median(samples: list[float]) -> float:
    return statistics.median(samples)
