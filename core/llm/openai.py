"""Any OpenAI-compatible Chat Completions server: OpenAI, vLLM, llama.cpp, Ollama."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import orjson

from ..errors import UpstreamBadResponse
from .base import ChatMessage
from .remote import RemoteModel, require_text
from .sse import sse_events

__all__ = ["OpenAIChat"]


class OpenAIChat(RemoteModel):
    name = "openai"
    path = "/chat/completions"

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        # A local model server takes no key; sending an empty bearer would confuse some.
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def complete(self, system: str, messages: list[ChatMessage], max_tokens: int) -> str:
        data = await self._post(self._body(system, messages, max_tokens, stream=False))
        try:
            text = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise UpstreamBadResponse(self.name, "answer without choices[0].message.content") from None
        return require_text(self.name, str(text or ""))

    async def stream(self, system: str, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str]:
        stream = await self._open(self._body(system, messages, max_tokens, stream=True))
        produced = False
        async with aclosing(sse_events(stream)) as events:
            async for event in events:
                if event.data.strip() == "[DONE]":
                    if not produced:
                        raise UpstreamBadResponse(self.name, "the model returned an empty reply")
                    return
                text = _delta_text(event.data)
                if text:
                    produced = True
                    yield text
        raise UpstreamBadResponse(self.name, "the stream ended before [DONE]")

    def _body(self, system: str, messages: list[ChatMessage], max_tokens: int, *, stream: bool) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, *messages],
            "max_tokens": max_tokens,
            "stream": stream,
        }


def _delta_text(data: str) -> str:
    try:
        chunk = orjson.loads(data)
        delta = chunk["choices"][0].get("delta") or {}
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        raise UpstreamBadResponse("openai", "a stream chunk that is not a chat.completion.chunk") from None
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""
