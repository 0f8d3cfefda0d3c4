"""Chat: research-guidance conversations over any model provider."""

from .service import ChatReply, ChatService, Delta, Mode

__all__ = ["ChatReply", "ChatService", "Delta", "Mode"]
