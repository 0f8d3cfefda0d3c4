"""Fake LLM upstreams (OpenAI-compatible and Anthropic): real aiohttp apps that record what they are asked.

Both speak their protocol's JSON and SSE framing as the real services do, so our clients' parsers are
tested against the wire format; knobs make them slow, fail, or break a stream so retries are exercised.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

__all__ = ["FakeAnthropic", "FakeLLM", "FakeOpenAI"]

DEFAULT_REPLY = "A fake reply about the research question."


def _text_of(value: Any) -> str:
    """All the text in a content or system field, whether a plain string or a list of blocks."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text_of(item) for item in value)
    if isinstance(value, dict):
        return "\n".join(_text_of(value[key]) for key in ("text", "content") if key in value)
    return ""


def _prompt(body: dict[str, Any]) -> str:
    """The request's system and message text, which fail_when and the usage counts look at."""
    return _text_of(body.get("system")) + "\n" + _text_of(body.get("messages"))


def _tokens(text: str) -> int:
    """A rough token count (about four characters each): enough for the usage fields."""
    return max(1, len(text) // 4)


def _sse(data: Mapping[str, Any] | str, event: str | None = None) -> bytes:
    """One server-sent event: optional `event:` line, one `data:` line, then the blank line."""
    payload = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {payload}\n\n".encode()


class FakeLLM:
    """The knobs and bookkeeping both fakes share; subclasses give the route and the wire format.

    Each call: record it, wait `latency`, validate, then answer the next of `statuses` (200 = succeed),
    or 500 whenever `fail_when` occurs in the prompt. Streams can be cut (`cut_stream_after`) mid-way.
    """

    route = ""
    error_frame: bytes | None = None  # an in-stream error event, for protocols that have one

    def __init__(self) -> None:
        self.url = ""  # set once the server is listening
        self.reply: str | Callable[[dict[str, Any]], str] = DEFAULT_REPLY
        self.chunk_size = 8
        self.latency = 0.0
        self.statuses: list[int] = []
        self.retry_after: str | None = None
        self.fail_when: str | None = None
        self.cut_stream_after: int | None = None
        self.error_event_after: int | None = None
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # names lower-cased

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(self.route, self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.headers.append({name.lower(): value for name, value in request.headers.items()})
            try:
                body = await request.json()
            except ValueError:
                body = None
            self.requests.append(body if isinstance(body, dict) else {})
            if self.latency:
                await asyncio.sleep(self.latency)
            if (rejection := self._check(request, body)) is not None:
                return rejection
            if self.fail_when and self.fail_when in _prompt(body):
                return self._error(500, "fake failure: the prompt matched fail_when")
            status = self.statuses.pop(0) if self.statuses else 200
            if status != 200:
                return self._error(status, f"fake error {status}")
            text = self.reply(body) if callable(self.reply) else self.reply
            if body.get("stream"):
                return await self._stream(request, body, text)
            return web.json_response(self._complete(body, text))
        finally:
            self.in_flight -= 1

    def _check(self, request: web.Request, body: Any) -> web.Response | None:
        """A rejection for a malformed request, or None; subclasses add their protocol's rules."""
        if not isinstance(body, dict):
            return self._error(400, "the request body must be a JSON object")
        return None

    def _error(self, status: int, message: str) -> web.Response:
        headers = {"Retry-After": self.retry_after} if self.retry_after and status in (429, 529) else {}
        return web.json_response(self._error_body(status, message), status=status, headers=headers)

    async def _stream(self, request: web.Request, body: dict[str, Any], text: str) -> web.StreamResponse:
        """Write events one by one (yielding between deltas) so clients really see a stream."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        error_after = self.error_event_after if self.error_frame else None
        limit = self.cut_stream_after if self.cut_stream_after is not None else error_after
        chunks = [text[i : i + self.chunk_size] for i in range(0, len(text), self.chunk_size)]
        head, deltas, tail = self._frames(body, text, chunks[:limit])
        for frame in head:
            await response.write(frame)
        for frame in deltas:
            await response.write(frame)
            await asyncio.sleep(0)
        if self.cut_stream_after is not None:
            # Abrupt: no terminating chunk, so the client sees a truncated body, not a clean end.
            if request.transport is not None:
                request.transport.close()
            return response
        for frame in [self.error_frame] if error_after is not None and self.error_frame else tail:
            await response.write(frame)
        await response.write_eof()
        return response

    def _error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def _complete(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        raise NotImplementedError

    def _frames(self, body: dict[str, Any], text: str, chunks: list[str]) -> tuple[list[bytes], ...]:
        """The stream's opening events, one delta event per chunk, and its closing events."""
        raise NotImplementedError


class FakeOpenAI(FakeLLM):
    """POST /chat/completions, as OpenAI or a local OpenAI-compatible model server answers it."""

    route = "/chat/completions"

    def _error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = "rate_limit_error" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "code": "rate_limit_exceeded" if status == 429 else None}}

    def _chunk(self, body: dict[str, Any], delta: dict[str, str], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse({"id": f"chatcmpl-fake-{self.calls}", "object": "chat.completion.chunk",
                     "created": int(time.time()), "model": body.get("model", "fake-model"), "choices": [choice]})

    def _complete(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        usage = {"prompt_tokens": _tokens(_prompt(body)), "completion_tokens": _tokens(text)}
        return {"id": f"chatcmpl-fake-{self.calls}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "fake-model"), "choices": [choice], "usage": usage}

    def _frames(self, body: dict[str, Any], text: str, chunks: list[str]) -> tuple[list[bytes], ...]:
        head = [self._chunk(body, {"role": "assistant"})]
        tail = [self._chunk(body, {}, "stop"), _sse("[DONE]")]
        return head, [self._chunk(body, {"content": chunk}) for chunk in chunks], tail


class FakeAnthropic(FakeLLM):
    """POST /v1/messages, checking the headers and role order the real Messages API insists on."""

    route = "/v1/messages"
    error_frame = _sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
    ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                   404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}

    def _check(self, request: web.Request, body: Any) -> web.Response | None:
        if not request.headers.get("x-api-key"):
            return self._error(401, "x-api-key header is required")
        if request.headers.get("anthropic-version") != "2023-06-01":
            return self._error(400, "anthropic-version header must be 2023-06-01")
        if (rejection := super()._check(request, body)) is not None:
            return rejection
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self._error(400, "messages: at least one message is required")
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") != ("user", "assistant")[i % 2]:
                return self._error(400, f"messages.{i}: roles must alternate user/assistant, starting with user")
        return None

    def _error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.ERROR_TYPES.get(status, "api_error"), "message": message}}

    def _message(self, body: dict[str, Any], content: list[Any], stop: str | None, out: int) -> dict[str, Any]:
        return {"id": f"msg_fake_{self.calls}", "type": "message", "role": "assistant",
                "model": body.get("model", "fake-model"), "content": content, "stop_reason": stop,
                "stop_sequence": None, "usage": {"input_tokens": _tokens(_prompt(body)), "output_tokens": out}}

    def _complete(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        return self._message(body, [{"type": "text", "text": text}], "end_turn", _tokens(text))

    def _frames(self, body: dict[str, Any], text: str, chunks: list[str]) -> tuple[list[bytes], ...]:
        def event(data: dict[str, Any]) -> bytes:  # Anthropic names each event after its type
            return _sse(data, data["type"])

        block = {"type": "text", "text": ""}
        head = [event({"type": "message_start", "message": self._message(body, [], None, 1)}),
                event({"type": "content_block_start", "index": 0, "content_block": block}), event({"type": "ping"})]
        deltas = [event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk}})
                  for chunk in chunks]
        stop = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": _tokens(text)}}
        tail = [event({"type": "content_block_stop", "index": 0}), event(stop), event({"type": "message_stop"})]
        return head, deltas, tail
