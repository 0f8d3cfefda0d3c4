"""The Anthropic and OpenAI-compatible adapters against fakes that speak each wire protocol."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from core.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from core.llm import AnthropicChat, OpenAIChat
from core.retry import RetryPolicy

FAST_RETRIES = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01, retry_after_cap=0.05)
MESSAGES = [{"role": "user", "content": "What changed in EU AI rules in 2024?"}]
OPTIONS = {"model": "m", "timeout": 2, "stream_timeout": 10, "retry": FAST_RETRIES}


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture(params=["openai", "anthropic"])
async def pair(request, session, fake_openai, fake_anthropic):
    """Each adapter with its own fake, so every test below runs against both protocols."""
    if request.param == "openai":
        return OpenAIChat(session, base_url=fake_openai.url, api_key="sk-test", **OPTIONS), fake_openai
    return AnthropicChat(session, base_url=fake_anthropic.url, api_key="sk-ant-test", **OPTIONS), fake_anthropic


async def collect(provider) -> list[str]:
    return [delta async for delta in provider.stream("system text", MESSAGES, 100)]


async def test_complete_returns_the_whole_reply(pair):
    provider, fake = pair
    fake.reply = "The AI Act entered into force on 1 August 2024."

    assert await provider.complete("system text", MESSAGES, 100) == fake.reply
    body = fake.requests[0]
    assert body["max_tokens"] == 100 and body["stream"] is False


async def test_stream_yields_several_deltas_that_make_the_reply(pair):
    provider, fake = pair
    fake.reply = "The AI Act entered into force on 1 August 2024."
    fake.chunk_size = 5

    deltas = await collect(provider)

    assert len(deltas) > 3
    assert "".join(deltas) == fake.reply


async def test_the_request_speaks_the_protocol(pair):
    provider, fake = pair
    await provider.complete("system text", MESSAGES, 100)

    headers, body = fake.headers[0], fake.requests[0]
    if provider.name == "openai":
        assert headers["authorization"] == "Bearer sk-test"
        assert body["messages"][0] == {"role": "system", "content": "system text"}
    else:
        assert headers["x-api-key"] == "sk-ant-test"
        assert headers["anthropic-version"] == "2023-06-01"
        assert body["system"] == "system text" and body["messages"] == MESSAGES


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_a_retryable_status_then_success(pair, status):
    provider, fake = pair
    fake.retry_after = "0"

    fake.statuses = [status]
    assert await provider.complete("s", MESSAGES, 100) == fake.reply
    assert fake.calls == 2
    fake.statuses = [status]
    assert "".join(await collect(provider)) == fake.reply
    assert fake.calls == 4


async def test_a_long_retry_after_is_capped(pair):
    provider, fake = pair
    fake.statuses = [429]
    fake.retry_after = "100"

    # Honoured uncapped, this would wait 100 s; the policy caps it at 0.05 s.
    assert await asyncio.wait_for(provider.complete("s", MESSAGES, 100), timeout=2) == fake.reply


async def test_a_client_error_is_not_retried(pair):
    provider, fake = pair
    fake.statuses = [400]

    with pytest.raises(UpstreamError, match="HTTP 400"):
        await provider.complete("s", MESSAGES, 100)
    assert fake.calls == 1


async def test_three_failures_raise_after_three_attempts(pair):
    provider, fake = pair
    fake.statuses = [500, 500, 500]

    with pytest.raises(UpstreamError, match="HTTP 500"):
        await provider.complete("s", MESSAGES, 100)
    assert fake.calls == 3


async def test_a_rejected_key_is_not_retried(pair):
    provider, fake = pair
    fake.statuses = [401]

    with pytest.raises(UpstreamError, match="rejected the API key"):
        await provider.complete("s", MESSAGES, 100)
    assert fake.calls == 1


async def test_a_cut_stream_is_an_error_not_a_short_reply(pair):
    provider, fake = pair
    fake.cut_stream_after = 2

    with pytest.raises(UpstreamBadResponse):
        await collect(provider)


async def test_a_slow_provider_times_out(session, fake_openai):
    fake_openai.latency = 1.0
    provider = OpenAIChat(session, base_url=fake_openai.url, api_key=None, **{**OPTIONS, "timeout": 0.1})

    with pytest.raises(UpstreamTimeout):
        await provider.complete("s", MESSAGES, 100)
    assert fake_openai.calls == 1  # a timeout is not retried: each attempt already waited long enough
    assert "authorization" not in fake_openai.headers[0]


async def test_anthropic_error_event_mid_stream_is_an_error(session, fake_anthropic):
    provider = AnthropicChat(session, base_url=fake_anthropic.url, api_key="k", **OPTIONS)
    fake_anthropic.error_event_after = 1

    with pytest.raises(UpstreamError, match="overloaded_error"):
        await collect(provider)


async def test_an_empty_reply_is_an_error(pair):
    provider, fake = pair
    fake.reply = ""

    with pytest.raises(UpstreamBadResponse, match="empty"):
        await provider.complete("s", MESSAGES, 100)
    with pytest.raises(UpstreamBadResponse, match="empty"):
        await collect(provider)
