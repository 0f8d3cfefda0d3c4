"""Chat over HTTP: send a message, read or clear the history."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.chat import ChatReply, Mode
from core.errors import InvalidInput
from server.keys import chat_service_key, principal_key

from .json import json_response, read_json_object, required_string

__all__ = ["chat", "chat_message", "clear_history", "history", "reply_fields"]

MAX_MESSAGE_CHARS = 8000
MODES = ("conversational", "research")


def chat_message(data: dict[str, Any], field: str = "message") -> tuple[str, Mode]:
    """The message and mode of a chat request, over HTTP or the websocket."""
    text = required_string(data, field, max_len=MAX_MESSAGE_CHARS)
    if not text.strip():
        raise InvalidInput(field, "must not be blank")
    mode = data.get("mode", "conversational")
    if mode not in MODES:
        raise InvalidInput("mode", "must be conversational or research")
    return text, mode


def reply_fields(reply: ChatReply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "response": reply.response,
        "mode": reply.mode,
        "conversation_length": reply.conversation_length,
        "suggest_research": reply.suggest_research,
        "source_query": reply.source_query,
    }
    if reply.sources is not None:
        body["sources"] = [source.to_dict() for source in reply.sources]
    return body


async def chat(request: web.Request) -> web.Response:
    text, mode = chat_message(await read_json_object(request))
    reply = await request.config_dict[chat_service_key].reply(request[principal_key].user_id, text, mode)
    return json_response(reply_fields(reply))


async def history(request: web.Request) -> web.Response:
    messages = await request.config_dict[chat_service_key].history(request[principal_key].user_id)
    return json_response({"messages": [message.to_dict() for message in messages], "length": len(messages)})


async def clear_history(request: web.Request) -> web.Response:
    await request.config_dict[chat_service_key].clear(request[principal_key].user_id)
    return json_response({"messages": [], "length": 0})
