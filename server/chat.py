"""The conversation store, the rate limiter, the model provider and the chat service."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from core.chat import ChatService
from core.conversations import ConversationStore, RedisConversationStore, Store
from core.llm import AnthropicChat, LLMProvider, LocalModel, OpenAIChat

from .keys import (
    caches_key,
    chat_service_key,
    conversations_key,
    corpus_key,
    http_session_key,
    llm_key,
    metrics_key,
    search_service_key,
    settings_key,
    sweepables_key,
)
from .resources import rate_limiter
from .search import retry_policy

__all__ = ["chat_ctx"]

DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o-mini"}


def llm_provider(app: web.Application) -> LLMProvider:
    settings = app[settings_key]
    model = settings.llm_model or DEFAULT_MODELS.get(settings.llm_provider, "extractive")
    common = {
        "model": model,
        "timeout": settings.llm_timeout,
        "stream_timeout": settings.llm_stream_timeout,
        "retry": retry_policy(settings),
    }
    if settings.llm_provider == "anthropic":
        assert settings.anthropic_api_key is not None  # Settings refuses anthropic without it
        return AnthropicChat(
            app[http_session_key], base_url=settings.anthropic_base_url, api_key=settings.anthropic_api_key, **common
        )
    if settings.llm_provider == "openai":
        return OpenAIChat(
            app[http_session_key], base_url=settings.openai_base_url, api_key=settings.openai_api_key, **common
        )
    return LocalModel(app[corpus_key])


async def chat_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    bounds = {
        "max_messages": settings.conversation_max_messages,
        "max_users": settings.conversation_max_users,
        "idle_ttl": settings.conversation_idle_ttl,
    }
    client = app[caches_key].redis
    store: Store
    if client is not None:
        store = RedisConversationStore(client, prefix=settings.cache_prefix, **bounds)
    else:
        store = ConversationStore(**bounds)
    limiter = rate_limiter(app, settings.chat_rate_limit)
    app[conversations_key] = store
    app[llm_key] = llm_provider(app)
    app[sweepables_key].append(store)
    app[metrics_key].watch_conversations(lambda: store.stats)
    app[chat_service_key] = ChatService(
        store,
        app[llm_key],
        app[search_service_key],
        limiter,
        max_tokens=settings.llm_max_tokens,
        history_messages=settings.chat_history_messages,
        history_chars=settings.chat_history_chars,
    )
    yield
