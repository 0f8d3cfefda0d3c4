"""Anthropic's Messages API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from ..errors import UpstreamBadResponse, UpstreamError
from ..retry import RetryPolicy
from .base import ChatMessage
from .remote import RemoteModel, require_text
from .sse import sse_events

__all__ = ["AnthropicChat"]

API_VERSION = "2023-06-01"


class AnthropicChat(RemoteModel):
    name = "anthropic"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        retry: RetryPolicy,
    ) -> None:
        super().__init__(
            session,
            url=base_url.rstrip("/") + "/v1/messages",
            headers={"x-api-key": api_key, "anthropic-version": API_VERSION},
            model=model,
            timeout=timeout,
            retry=retry,
        )

    async def complete(self, system: str, messages: list[ChatMessage], max_tokens: int) -> str:
        data = await self._post(self._body(system, messages, max_tokens, stream=False))
        blocks = data.get("content") if isinstance(data, dict) else None
        if not isinstance(blocks, list):
            raise UpstreamBadResponse(self.name, "answer without a content list")
        text = "".join(block.get("text", "") for block in blocks if isinstance(block, dict) and block.get("type") == "text")
        return require_text(self.name, text)

    async def stream(self, system: str, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str]:
        stream = await self._open(self._body(system, messages, max_tokens, stream=True))
        produced = False
        async for event in sse_events(stream):
            if event.event == "content_block_delta":
                delta = _payload(event.data).get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    produced = True
                    yield delta["text"]
            elif event.event == "message_stop":
                if not produced:
                    raise UpstreamBadResponse(self.name, "the model returned an empty reply")
                return
            elif event.event == "error":
                error = _payload(event.data).get("error") or {}
                raise UpstreamError(self.name, f"error mid-stream: {error.get('type', 'unknown')}: {error.get('message', '')}")
        raise UpstreamBadResponse(self.name, "the stream ended before message_stop")

    def _body(self, system: str, messages: list[ChatMessage], max_tokens: int, *, stream: bool) -> dict[str, Any]:
        return {"model": self.model, "max_tokens": max_tokens, "system": system, "messages": messages, "stream": stream}


def _payload(data: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamBadResponse("anthropic", "a stream event whose data is not JSON") from None
    if not isinstance(payload, dict):
        raise UpstreamBadResponse("anthropic", "a stream event whose data is not an object")
    return payload
