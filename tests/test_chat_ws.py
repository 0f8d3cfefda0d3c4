"""Chat over the websocket: auth, streamed deltas, error frames that keep the socket usable."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from tests.conftest import bearer, metric
from tests.test_auth_local import forge

TOKEN = forge(sub="wendy")


async def open_socket(client, token: str | None = TOKEN, origin: str | None = None):
    headers = bearer(token) if token else {}
    if origin is not None:
        headers["Origin"] = origin
    return await client.ws_connect("/ws/chat", headers=headers)


async def frames_until_done(socket) -> list[dict]:
    """Every frame up to and including the done or error frame."""
    frames = []
    while True:
        frame = await asyncio.wait_for(socket.receive_json(), timeout=5)
        frames.append(frame)
        if frame["type"] in ("done", "error"):
            return frames


async def test_deltas_stream_before_done_with_the_offline_writer(app_client):
    client = await app_client()
    socket = await open_socket(client)

    await socket.send_json({"type": "message", "text": "What is the EU Emissions Trading System?"})
    frames = await frames_until_done(socket)

    deltas = [frame for frame in frames if frame["type"] == "delta"]
    done = frames[-1]
    assert len(deltas) > 5 and done["type"] == "done"
    assert "".join(frame["text"] for frame in deltas) == done["response"]
    assert "[1]" in done["response"] and "Emissions Trading" in done["response"]
    assert done["conversation_length"] == 2
    await socket.close()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_deltas_stream_from_each_provider(app_client, fake_openai, fake_anthropic, provider):
    fake = fake_openai if provider == "openai" else fake_anthropic
    fake.reply, fake.chunk_size = "Which decade do you want to focus on, and which countries?", 6
    keys = {"anthropic_api_key": "k"} if provider == "anthropic" else {}
    client = await app_client(llm_provider=provider, **{f"{provider}_base_url": fake.url}, **keys)
    socket = await open_socket(client)

    await socket.send_json({"type": "message", "text": "renewable subsidies"})
    frames = await frames_until_done(socket)

    assert [frame["type"] for frame in frames[:-1]] == ["delta"] * (len(frames) - 1)
    assert len(frames) > 3
    assert frames[-1]["response"] == fake.reply


async def test_a_cut_stream_gives_an_error_frame_and_the_socket_stays_usable(app_client, fake_openai):
    client = await app_client(llm_provider="openai", openai_base_url=fake_openai.url)
    socket = await open_socket(client)
    fake_openai.cut_stream_after = 2

    await socket.send_json({"type": "message", "text": "first"})
    failed = await frames_until_done(socket)
    fake_openai.cut_stream_after = None
    await socket.send_json({"type": "message", "text": "second"})
    recovered = await frames_until_done(socket)

    assert failed[-1]["type"] == "error" and failed[-1]["code"] == "upstream_bad_response"
    assert recovered[-1]["type"] == "done"
    history = await (await client.get("/api/chat/history", headers=bearer(TOKEN))).json()
    assert [m["content"] for m in history["messages"] if m["role"] == "user"] == ["first", "second"]
    assert [m["role"] for m in history["messages"]] == ["user", "user", "assistant"]


async def test_provider_failing_three_times_gives_an_error_frame(app_client, fake_anthropic):
    client = await app_client(llm_provider="anthropic", anthropic_api_key="k", anthropic_base_url=fake_anthropic.url,
                              retry_base_delay=0.001)
    fake_anthropic.statuses = [500, 529, 500]
    socket = await open_socket(client)

    await socket.send_json({"type": "message", "text": "question"})
    frames = await frames_until_done(socket)

    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "upstream_error"
    assert fake_anthropic.calls == 3


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_input"),
        ('["a", "list"]', "invalid_input"),
        ('{"type": "dance"}', "invalid_input"),
        ('{"type": "message"}', "invalid_input"),
        ('{"type": "message", "text": ""}', "invalid_input"),
        ('{"type": "message", "text": "ok", "mode": "poetry"}', "invalid_input"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(app_client, frame, code):
    client = await app_client()
    socket = await open_socket(client)

    await socket.send_str(frame)
    error = await socket.receive_json()
    await socket.send_json({"type": "ping"})
    pong = await socket.receive_json()

    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert pong == {"type": "pong"}


async def test_a_binary_frame_gets_an_error_frame(app_client):
    client = await app_client()
    socket = await open_socket(client)

    await socket.send_bytes(b"\x00\x01")

    assert (await socket.receive_json())["type"] == "error"


async def test_an_oversize_frame_closes_the_socket_with_message_too_big(app_client):
    client = await app_client()
    socket = await open_socket(client)

    await socket.send_str('{"type": "message", "text": "' + "x" * 100 * 1024 + '"}')
    frame = await socket.receive()

    assert frame.type == WSMsgType.CLOSE
    assert socket.close_code == WSCloseCode.MESSAGE_TOO_BIG
    assert (await client.get("/api/health")).status == 200


async def test_a_message_while_a_reply_streams_gets_an_error_frame(app_client, fake_openai):
    client = await app_client(llm_provider="openai", openai_base_url=fake_openai.url)
    fake_openai.latency = 0.3
    socket = await open_socket(client)

    await socket.send_json({"type": "message", "text": "first"})
    await socket.send_json({"type": "message", "text": "too soon"})
    frames = await frames_until_done(socket)
    rest = await frames_until_done(socket)

    assert frames[0]["type"] == "error" and "still streaming" in frames[0]["message"]
    assert rest[-1]["type"] == "done"


@pytest.mark.parametrize("how", ["query", "auth-frame"])
async def test_token_by_query_or_first_frame(app_client, how):
    client = await app_client()
    if how == "query":
        socket = await client.ws_connect(f"/ws/chat?token={TOKEN}")
    else:
        socket = await client.ws_connect("/ws/chat")
        await socket.send_json({"type": "auth", "token": TOKEN})

    await socket.send_json({"type": "ping"})

    assert await socket.receive_json() == {"type": "pong"}


@pytest.mark.parametrize("token", ["garbage", forge(exp=int(time.time()) - 5)])
async def test_a_bad_token_closes_with_policy_violation(app_client, token):
    client = await app_client()
    socket = await client.ws_connect(f"/ws/chat?token={token}")

    frame = await socket.receive()

    assert frame.type == WSMsgType.CLOSE
    assert socket.close_code == WSCloseCode.POLICY_VIOLATION


async def test_no_auth_frame_in_time_closes_with_a_reason(app_client):
    client = await app_client(ws_auth_timeout=0.1)
    socket = await client.ws_connect("/ws/chat")

    frame = await socket.receive()

    assert socket.close_code == WSCloseCode.POLICY_VIOLATION
    assert "no auth frame" in frame.extra


async def test_a_foreign_origin_is_refused(app_client):
    client = await app_client(allowed_origins="https://app.example.org")

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await open_socket(client, origin="https://evil.example.net")
    listed = await open_socket(client, origin="https://app.example.org")

    assert refused.value.status == 403
    await listed.send_json({"type": "ping"})
    assert await listed.receive_json() == {"type": "pong"}


async def test_localhost_origins_are_allowed_by_default(app_client):
    client = await app_client()

    socket = await open_socket(client, origin="http://localhost:5173")

    await socket.send_json({"type": "ping"})
    assert await socket.receive_json() == {"type": "pong"}


async def test_at_most_five_sockets_per_user(app_client):
    client = await app_client()
    sockets = [await open_socket(client) for _ in range(5)]

    sixth = await open_socket(client)
    frame = await sixth.receive()

    assert frame.type == WSMsgType.CLOSE and sixth.close_code == WSCloseCode.POLICY_VIOLATION
    assert await metric(client, "websocket_connections") == 5
    await sockets[0].close()
    await asyncio.sleep(0.05)
    replacement = await open_socket(client)
    await replacement.send_json({"type": "ping"})
    assert await replacement.receive_json() == {"type": "pong"}


async def test_the_rate_limit_counts_http_and_socket_together(app_client):
    client = await app_client(chat_rate_limit=2)
    assert (await client.post("/api/chat", json={"message": "one"}, headers=bearer(TOKEN))).status == 200
    socket = await open_socket(client)

    await socket.send_json({"type": "message", "text": "two"})
    allowed = await frames_until_done(socket)
    await socket.send_json({"type": "message", "text": "three"})
    limited = await frames_until_done(socket)

    assert allowed[-1]["type"] == "done"
    assert limited[-1] == {"type": "error", "code": "rate_limited", "message": limited[-1]["message"]}
    assert "at most 2 a minute" in limited[-1]["message"]
