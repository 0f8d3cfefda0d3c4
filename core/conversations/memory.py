"""Per-user conversation history in this process, bounded in messages, in users and in idle time."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from .model import ConversationStats, Message, Role

__all__ = ["ConversationStore"]


@dataclass(slots=True)
class _Conversation:
    messages: deque[Message]
    last_active: float  # monotonic


class ConversationStore:
    """The only writer of conversations; every operation is O(1) but `history`.

    Users sit in an OrderedDict in order of last activity, so the least recently
    active is evicted first when `max_users` is reached, and the idle sweep stops at
    the first user still active. Each user's messages are a deque of `max_messages`,
    which drops the oldest on append.
    """

    def __init__(
        self,
        *,
        max_messages: int,
        max_users: int,
        idle_ttl: float,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_messages = max_messages
        self._max_users = max_users
        self._idle_ttl = idle_ttl
        self._clock = clock
        self._monotonic = monotonic
        self._users: OrderedDict[str, _Conversation] = OrderedDict()
        self._message_count = 0
        self._evicted = 0
        self._expired = 0

    @property
    def stats(self) -> ConversationStats:
        return ConversationStats(len(self._users), self._message_count, self._evicted, self._expired)

    async def append(self, user_id: str, role: Role, content: str) -> int:
        """Store one message; returns the conversation's length afterwards."""
        conversation = self._touch(user_id, create=True)
        assert conversation is not None
        messages = conversation.messages
        if len(messages) == messages.maxlen:
            self._message_count -= 1
        messages.append(Message(role, content, self._clock()))
        self._message_count += 1
        return len(messages)

    async def history(self, user_id: str) -> list[Message]:
        conversation = self._touch(user_id, create=False)
        return list(conversation.messages) if conversation is not None else []

    async def clear(self, user_id: str) -> None:
        conversation = self._users.pop(user_id, None)
        if conversation is not None:
            self._message_count -= len(conversation.messages)

    async def sweep(self) -> int:
        """Drop users idle for longer than the idle TTL; the oldest activity comes first."""
        deadline = self._monotonic() - self._idle_ttl
        removed = 0
        while self._users:
            user_id, conversation = next(iter(self._users.items()))
            if conversation.last_active > deadline:
                break
            self._drop(user_id)
            removed += 1
        self._expired += removed
        return removed

    def _touch(self, user_id: str, *, create: bool) -> _Conversation | None:
        now = self._monotonic()
        conversation = self._users.get(user_id)
        if conversation is not None and conversation.last_active <= now - self._idle_ttl:
            # Idle past the TTL but not yet swept: it is gone all the same.
            self._drop(user_id)
            self._expired += 1
            conversation = None
        if conversation is None:
            if not create:
                return None
            conversation = _Conversation(deque(maxlen=self._max_messages), now)
            self._users[user_id] = conversation
            while len(self._users) > self._max_users:
                self._drop(next(iter(self._users)))
                self._evicted += 1
        conversation.last_active = now
        self._users.move_to_end(user_id)
        return conversation

    def _drop(self, user_id: str) -> None:
        conversation = self._users.pop(user_id)
        self._message_count -= len(conversation.messages)
