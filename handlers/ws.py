"""Chat over a websocket, with the reply streamed as the model writes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from core.auth import Principal
from core.chat import ChatReply, Delta
from core.errors import InvalidInput, ServiceError, Unauthorized, UpstreamError
from core.reports import ReportRequest
from server.errors import describe
from server.keys import (
    chat_service_key,
    metrics_key,
    report_service_key,
    settings_key,
    sockets_key,
    token_validator_key,
)

from .chat import chat_message, reply_fields
from .reports import report_body, report_request

__all__ = ["chat_socket"]

log = logging.getLogger(__name__)
MAX_FRAME_BYTES = 64 * 1024
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def chat_socket(request: web.Request) -> web.StreamResponse:
    settings = request.config_dict[settings_key]
    if not _origin_allowed(request, settings.allowed_origins):
        raise web.HTTPForbidden(text="this Origin may not open the chat socket")
    socket = web.WebSocketResponse(heartbeat=settings.ws_heartbeat, max_msg_size=MAX_FRAME_BYTES)
    await socket.prepare(request)
    registry = request.config_dict[sockets_key]
    if not registry.admit(socket):
        await socket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too many sockets are authenticating")
        return socket
    user_id = None
    try:
        token, principal = await _authenticate(request, socket, settings.ws_auth_timeout)
        if principal is None:
            return socket
        user_id = principal.user_id
        if not registry.add(user_id, socket):
            await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many open chat sockets for this user")
            return socket
        gauge = request.config_dict[metrics_key].websockets
        gauge.inc()
        try:
            await _converse(request, socket, token)
        finally:
            gauge.dec()
    finally:
        registry.discard(user_id, socket)
    return socket


async def _converse(request: web.Request, socket: web.WebSocketResponse, token: str) -> None:
    validator = request.config_dict[token_validator_key]
    replying: asyncio.Task[None] | None = None
    try:
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                if frame.type == WSMsgType.BINARY:
                    await _send_error(socket, "invalid_input", "frames must be JSON text")
                continue
            try:
                data = _frame(frame.data)
                if data["type"] == "ping":
                    await socket.send_json({"type": "pong"}, dumps=_dumps)
                    continue
                if data["type"] not in ("message", "report"):
                    raise InvalidInput("type", f"unknown frame type {data['type']!r}; use message, report or ping")
                if replying is not None and not replying.done():
                    raise InvalidInput(data["type"], "a reply is still streaming; wait for its done frame")
                kind = data["type"]
                parsed = chat_message(data, field="text") if kind == "message" else report_request(data)
                # The token may have expired since the socket opened.
                principal = await validator.authenticate(token)
            except ServiceError as exc:
                await _send_error(socket, describe(exc)[1], exc.message)
                if isinstance(exc, Unauthorized):
                    await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=b"token no longer valid")
                continue
            if isinstance(parsed, ReportRequest):
                answer = _report(request, socket, principal.user_id, parsed)
            else:
                answer = _chat_reply(request, socket, principal.user_id, *parsed)
            replying = asyncio.create_task(_answering(socket, answer))
    finally:
        if replying is not None and not replying.done():
            replying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replying


async def _answering(socket: web.WebSocketResponse, work: Awaitable[None]) -> None:
    """Run one answer; any failure becomes an error frame and the socket stays usable."""
    try:
        await work
    except ServiceError as exc:
        message = f"the reply failed: {exc.message}" if isinstance(exc, UpstreamError) else exc.message
        await _send_error(socket, describe(exc)[1], message)
    except ConnectionResetError:
        pass  # the client left mid-answer; a chat message is kept, a report goes on and is kept
    except Exception:
        log.exception("websocket answer failed")
        await _send_error(socket, "internal_error", "the reply failed on our side; the socket is still open")


async def _chat_reply(request: web.Request, socket: web.WebSocketResponse, user_id: str, text: str, mode: Any) -> None:
    async for event in request.config_dict[chat_service_key].stream(user_id, text, mode):
        if isinstance(event, Delta):
            await socket.send_json({"type": "delta", "text": event.text}, dumps=_dumps)
        elif isinstance(event, ChatReply):
            await socket.send_json({"type": "done", **reply_fields(event)}, dumps=_dumps)


async def _report(request: web.Request, socket: web.WebSocketResponse, user_id: str, wanted: ReportRequest) -> None:
    started = time.perf_counter()
    handle = await request.config_dict[report_service_key].start(user_id, wanted)
    await socket.send_json(
        {"type": "report.started", "report_id": handle.report_id, "sections_total": handle.sections_total},
        dumps=_dumps,
    )
    async for index, title, status in handle.sections():
        await socket.send_json({"type": "report.section", "index": index, "title": title, "status": status},
                               dumps=_dumps)
    # Shielded: closing the socket stops the frames, never the report.
    report = await asyncio.shield(handle.task)
    elapsed = (time.perf_counter() - started) * 1000
    body = report_body(handle.report_id, report, cached=handle.cached, elapsed_ms=elapsed)
    await socket.send_json({"type": "report.done", "report": body}, dumps=_dumps)


async def _authenticate(
    request: web.Request, socket: web.WebSocketResponse, timeout: float
) -> tuple[str, Principal | None]:
    """A token from the Authorization header, ?token=, or a first {"type": "auth"} frame."""
    validator = request.config_dict[token_validator_key]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.query.get("token", "")
    try:
        if not token:
            token = await asyncio.wait_for(_auth_frame(socket), timeout)
        return token, await validator.authenticate(token)
    except asyncio.TimeoutError:
        code, reason = WSCloseCode.POLICY_VIOLATION, f"no auth frame within {timeout:g} s"
    except UpstreamError as exc:
        # The identity service is down: not the client's fault, so "try again later".
        code, reason = WSCloseCode.TRY_AGAIN_LATER, exc.message
    except (ServiceError, ValueError) as exc:
        code, reason = WSCloseCode.POLICY_VIOLATION, exc.message if isinstance(exc, ServiceError) else str(exc)
    await socket.close(code=code, message=reason.encode()[:120])
    return token, None


async def _auth_frame(socket: web.WebSocketResponse) -> str:
    frame = await socket.receive()
    if frame.type != WSMsgType.TEXT:
        raise ValueError("the first frame must be {\"type\": \"auth\", \"token\": ...}")
    try:
        data = _frame(frame.data)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None
    token = data.get("token")
    if data["type"] != "auth" or not isinstance(token, str) or not token:
        raise ValueError("the first frame must be {\"type\": \"auth\", \"token\": ...}")
    return token


def _frame(raw: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("frame", "not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise InvalidInput("frame", "must be a JSON object with a string type")
    return data


async def _send_error(socket: web.WebSocketResponse, code: str, message: str) -> None:
    if not socket.closed:
        with contextlib.suppress(ConnectionResetError):  # the client may be gone already
            await socket.send_json({"type": "error", "code": code, "message": message}, dumps=_dumps)


def _origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """No Origin (a non-browser client), a listed one, the same origin, or localhost by default."""
    origin = request.headers.get("Origin")
    if origin is None or "*" in allowed:
        return True
    origin = origin.rstrip("/").lower()
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    if parts.netloc == request.host.lower():
        return True
    return not allowed and parts.hostname in LOCAL_HOSTS
