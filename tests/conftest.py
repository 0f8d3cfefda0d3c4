"""Fixtures: the real app built from settings, and fake upstreams as real servers."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from server import Settings, create_app
from tests.fakes.ledewire import FakeLedeWire
from tests.fakes.llm import FakeAnthropic, FakeOpenAI
from tests.fakes.tavily import FakeTavily

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET = "test-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"

AppClient = Callable[..., Awaitable[TestClient]]


def settings_from(**env: Any) -> Settings:
    """Settings as the service reads them, from upper-cased environment names."""
    return Settings.from_env({name.upper(): str(value) for name, value in env.items()})


@pytest.fixture
def app_client(aiohttp_client: Any) -> AppClient:
    """Build the real app from environment-style settings and return a client for it."""

    async def build(**env: Any) -> TestClient:
        env.setdefault("auth_jwt_secret", TEST_SECRET)
        return await aiohttp_client(create_app(settings_from(**env)))

    return build


@pytest.fixture
def serve(aiohttp_server: Any) -> Callable[[Any], Awaitable[Any]]:
    """Start a fake upstream (an object with .app() and .url) as a real server on loopback."""

    async def start(fake: Any) -> Any:
        server: TestServer = await aiohttp_server(fake.app())
        fake.url = str(server.make_url(""))
        return fake

    return start


@pytest.fixture
async def fake_ledewire(serve: Callable[[Any], Awaitable[Any]]) -> FakeLedeWire:
    return await serve(FakeLedeWire())


@pytest.fixture
async def fake_tavily(serve: Callable[[Any], Awaitable[Any]]) -> FakeTavily:
    return await serve(FakeTavily())


@pytest.fixture
async def fake_openai(serve: Callable[[Any], Awaitable[Any]]) -> FakeOpenAI:
    return await serve(FakeOpenAI())


@pytest.fixture
async def fake_anthropic(serve: Callable[[Any], Awaitable[Any]]) -> FakeAnthropic:
    return await serve(FakeAnthropic())


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def metric(client: TestClient, name: str, **labels: str) -> float | None:
    """One sample's value from /metrics, read as Prometheus would."""
    response = await client.get("/metrics")
    assert response.status == 200
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    if not redis_reachable():
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis is required but {REDIS_URL} does not answer")
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
