"""Every typed key for app and request state, in one place."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from core.auth import IdentityProvider, Principal, TokenValidator
from core.cache import CacheRegistry
from core.chat import ChatService
from core.conversations import Store
from core.llm import LLMProvider
from core.reports import ReportService
from core.search import LocalSearch, SearchService

from .background import Sweepable
from .metrics import Metrics
from .settings import Settings
from .sockets import SocketRegistry

__all__ = [
    "caches_key",
    "chat_service_key",
    "conversations_key",
    "corpus_key",
    "http_session_key",
    "identity_key",
    "llm_key",
    "metrics_key",
    "principal_key",
    "report_service_key",
    "request_id_key",
    "search_service_key",
    "settings_key",
    "sockets_key",
    "sweepables_key",
    "token_validator_key",
]

settings_key = web.AppKey("settings", Settings)
metrics_key = web.AppKey("metrics", Metrics)
http_session_key = web.AppKey("http_session", aiohttp.ClientSession)
caches_key = web.AppKey("caches", CacheRegistry)
identity_key = web.AppKey("identity", IdentityProvider)
token_validator_key = web.AppKey("token_validator", TokenValidator)
sweepables_key = web.AppKey("sweepables", list[Sweepable])
search_service_key = web.AppKey("search_service", SearchService)
corpus_key = web.AppKey("corpus", LocalSearch)
conversations_key = web.AppKey("conversations", Store)
chat_service_key = web.AppKey("chat_service", ChatService)
sockets_key = web.AppKey("sockets", SocketRegistry)
llm_key = web.AppKey("llm", LLMProvider)
report_service_key = web.AppKey("report_service", ReportService)

principal_key = web.RequestKey("principal", Principal)
request_id_key = web.RequestKey("request_id", str)
