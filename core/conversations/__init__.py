"""Per-user conversation history: in this process, or in Redis for several instances."""

from .memory import ConversationStore
from .model import ConversationStats, Message, Role, Store
from .redis import RedisConversationStore

__all__ = ["ConversationStats", "ConversationStore", "Message", "RedisConversationStore", "Role", "Store"]
