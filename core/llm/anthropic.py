"""Anthropic's Messages API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import orjson

from ..errors import UpstreamBadResponse, UpstreamError
from .base import ChatMessage
from .remote import RemoteModel, require_text
from .sse import sse_events

__all__ = ["AnthropicChat"]

API_VERSION = "2023-06-01"


class AnthropicChat(RemoteModel):
    name = "anthropic"
    path = "/v1/messages"

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"x-api-key": api_key or "", "anthropic-version": API_VERSION}

    async def complete(self, system: str, messages: list[ChatMessage], max_tokens: int) -> str:
        data = await self._post(self._body(system, messages, max_tokens, stream=False))
        blocks = data.get("content") if isinstance(data, dict) else None
        if not isinstance(blocks, list):
            raise UpstreamBadResponse(self.name, "answer without a content list")
        text = "".join(
            block["text"]
            for block in blocks
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
        )
        return require_text(self.name, text)

    async def stream(self, system: str, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str]:
        stream = await self._open(self._body(system, messages, max_tokens, stream=True))
        produced = False
        async with aclosing(sse_events(stream)) as events:
            async for event in events:
                if event.event == "content_block_delta":
                    delta = _field(event.data, "delta")
                    text = delta.get("text")
                    if delta.get("type") == "text_delta" and isinstance(text, str) and text:
                        produced = True
                        yield text
                elif event.event == "message_stop":
                    if not produced:
                        raise UpstreamBadResponse(self.name, "the model returned an empty reply")
                    return
                elif event.event == "error":
                    error = _field(event.data, "error")
                    kind, message = error.get("type", "unknown"), error.get("message", "")
                    raise UpstreamError(self.name, f"error mid-stream: {kind}: {message}")
        raise UpstreamBadResponse(self.name, "the stream ended before message_stop")

    def _body(self, system: str, messages: list[ChatMessage], max_tokens: int, *, stream: bool) -> dict[str, Any]:
        return {"model": self.model, "max_tokens": max_tokens, "system": system, "messages": messages, "stream": stream}


def _field(data: str, name: str) -> dict[str, Any]:
    """The object `name` of a stream event's JSON data; anything else is a protocol fault."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamBadResponse("anthropic", "a stream event whose data is not JSON") from None
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        raise UpstreamBadResponse("anthropic", f"a stream event without an object {name!r}")
    return value
