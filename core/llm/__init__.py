"""Language-model providers: the offline extractive default, Anthropic, and OpenAI-compatible servers."""

from .anthropic import AnthropicChat
from .base import ChatMessage, LLMProvider
from .local import LocalModel
from .openai import OpenAIChat

__all__ = ["AnthropicChat", "ChatMessage", "LLMProvider", "LocalModel", "OpenAIChat"]
