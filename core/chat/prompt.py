"""What the model is told: its role, and a bounded window of the conversation."""

from __future__ import annotations

from ..conversations import Message
from ..llm import ChatMessage
from ..search import Source

__all__ = ["SYSTEM_PROMPT", "history_window", "system_prompt"]

SYSTEM_PROMPT = """You are a research-guidance assistant. You help a person turn a broad interest into a \
research question that sources can answer.

- Help narrow the question: its scope, the time frame, the geography, the kinds of sources wanted \
(official documents, academic studies, journalism, data), and anything to exclude.
- Ask one focused question at a time, and keep replies short.
- Once the question is clear, suggest searching for sources on it.
- Do not invent facts, studies or citations. When sources are listed below, cite them as [n] and only \
those numbers."""


def system_prompt(sources: list[Source]) -> str:
    if not sources:
        return SYSTEM_PROMPT
    listed = "\n".join(
        f"[{n}] {source.title} ({source.domain}, {source.published_date or 'undated'}): {source.snippet}"
        for n, source in enumerate(sources, start=1)
    )
    return f"{SYSTEM_PROMPT}\n\nSources found for this conversation:\n{listed}"


def history_window(history: list[Message], *, max_messages: int, max_chars: int) -> list[ChatMessage]:
    """The newest messages that fit both bounds, as alternating turns that start with the user.

    A failed reply leaves two user messages in a row; they are joined, since both
    Anthropic and strict chat templates refuse two turns of one role.
    """
    window: list[ChatMessage] = []
    budget = max_chars
    for message in reversed(history[-max_messages:]):
        if budget - len(message.content) < 0 and window:
            break
        budget -= len(message.content)
        if window and window[0]["role"] == message.role:
            window[0] = {"role": message.role, "content": f"{message.content}\n\n{window[0]['content']}"}
        else:
            window.insert(0, {"role": message.role, "content": message.content})
    while window and window[0]["role"] != "user":
        window.pop(0)
    return window
