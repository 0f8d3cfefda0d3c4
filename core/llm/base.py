"""What every language-model provider offers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, TypedDict

__all__ = ["ChatMessage", "LLMProvider"]


class ChatMessage(TypedDict):
    role: Literal["user", "assistant"]
    content: str


class LLMProvider(Protocol):
    name: str
    model: str

    async def complete(self, system: str, messages: list[ChatMessage], max_tokens: int) -> str:
        """The whole reply. Raises an Upstream* error rather than return an empty one."""
        ...

    def stream(self, system: str, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str]:
        """The reply as text deltas, as the provider produces them.

        A stream that ends before the provider said it was done raises
        UpstreamBadResponse: a cut reply is an error, never a short answer.
        """
        ...
