"""A conversation's message, and what a store reports about itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

__all__ = ["ConversationStats", "Message", "Role", "Store"]

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str
    timestamp: float  # seconds since the epoch

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ConversationStats:
    users: int
    messages: int
    users_evicted: int
    users_expired: int
    errors: int = 0  # store operations that failed (Redis)


class Store(Protocol):
    """The memory and Redis stores alike: the only writers of conversations."""

    @property
    def stats(self) -> ConversationStats: ...

    async def append(self, user_id: str, role: Role, content: str) -> int: ...

    async def history(self, user_id: str) -> list[Message]: ...

    async def clear(self, user_id: str) -> None: ...

    async def sweep(self) -> int: ...
