"""A chat turn: store the question, ask the model, store the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from ..conversations import Message, Store
from ..llm import ChatMessage, LLMProvider
from ..ratelimit import Limiter
from ..search import SearchQuery, SearchService, Source
from ..text import tokenize
from .prompt import history_window, system_prompt

__all__ = ["ChatReply", "ChatService", "Delta", "Mode"]

Mode = Literal["conversational", "research"]
# A conversation is research-shaped once the user's words name this many distinct terms.
RESEARCH_TERMS = 6
SOURCE_QUERY_CHARS = 300
RESEARCH_SOURCES = 5
# What is kept of one reply: a remote model may send megabytes, the history holds 50 messages a user.
MAX_STORED_REPLY_CHARS = 32_000


@dataclass(frozen=True, slots=True)
class ChatReply:
    response: str
    mode: Mode
    conversation_length: int
    suggest_research: bool
    source_query: str | None
    sources: list[Source] | None


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class _Turn:
    system: str
    sources: list[Source] | None
    suggest_research: bool
    source_query: str | None


class ChatService:
    """The user's message stays in the history whatever happens; a failed reply is not stored."""

    def __init__(
        self,
        store: Store,
        llm: LLMProvider,
        search: SearchService,
        limiter: Limiter,
        *,
        max_tokens: int,
        history_messages: int = 20,
        history_chars: int = 12_000,
    ) -> None:
        self._store = store
        self._llm = llm
        self._search = search
        self._limiter = limiter
        self._max_tokens = max_tokens
        self._history_messages = history_messages
        self._history_chars = history_chars

    async def history(self, user_id: str) -> list[Message]:
        return await self._store.history(user_id)

    async def clear(self, user_id: str) -> None:
        await self._store.clear(user_id)

    async def reply(self, user_id: str, message: str, mode: Mode) -> ChatReply:
        turn, window = await self._begin(user_id, message, mode)
        text = await self._llm.complete(turn.system, window, self._max_tokens)
        return await self._finish(user_id, mode, turn, text)

    async def stream(self, user_id: str, message: str, mode: Mode) -> AsyncIterator[Delta | ChatReply]:
        """Deltas as the model writes, then the ChatReply once the answer is stored."""
        turn, window = await self._begin(user_id, message, mode)
        parts: list[str] = []
        async for text in self._llm.stream(turn.system, window, self._max_tokens):
            parts.append(text)
            yield Delta(text)
        yield await self._finish(user_id, mode, turn, "".join(parts))

    async def _begin(self, user_id: str, message: str, mode: Mode) -> tuple[_Turn, list[ChatMessage]]:
        await self._limiter.hit(user_id, "chat messages")
        await self._store.append(user_id, "user", message)
        history = await self._store.history(user_id)
        asked = [item.content for item in history if item.role == "user"]
        source_query = _source_query(asked)
        suggest = len(set(tokenize(" ".join(asked)))) >= RESEARCH_TERMS
        sources = None
        if mode == "research":
            outcome = await self._search.search(SearchQuery(source_query, max_results=RESEARCH_SOURCES))
            sources = outcome.sources
        window = history_window(history, max_messages=self._history_messages, max_chars=self._history_chars)
        shown_query = source_query if suggest or mode == "research" else None
        turn = _Turn(system_prompt(sources or []), sources, suggest, shown_query)
        return turn, window

    async def _finish(self, user_id: str, mode: Mode, turn: _Turn, text: str) -> ChatReply:
        length = await self._store.append(user_id, "assistant", text[:MAX_STORED_REPLY_CHARS])
        return ChatReply(text, mode, length, turn.suggest_research, turn.source_query, turn.sources)


def _source_query(asked: list[str]) -> str:
    """The user's last few messages, newest last, cut at a word to a search-sized query."""
    query = " ".join(" ".join(asked[-3:]).split())
    if len(query) > SOURCE_QUERY_CHARS:
        query = query[:SOURCE_QUERY_CHARS].rsplit(" ", 1)[0]
    return query
