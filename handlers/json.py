"""Reading and writing JSON bodies with orjson, and checking their fields."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from core.errors import InvalidInput

__all__ = [
    "json_response",
    "optional_integer",
    "optional_string",
    "optional_string_list",
    "read_json_object",
    "required_string",
]


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, headers=headers, content_type="application/json")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object. Over client_max_size, aiohttp raises 413 while reading."""
    raw = await request.read()
    if not raw:
        raise InvalidInput("body", "a JSON object is required")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "malformed JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("body", "must be a JSON object")
    return data


def required_string(data: dict[str, Any], name: str, *, min_len: int = 1, max_len: int) -> str:
    value = data.get(name)
    if value is None:
        raise InvalidInput(name, "is required")
    return _string(name, value, min_len, max_len)


def optional_string(data: dict[str, Any], name: str, *, min_len: int = 1, max_len: int) -> str | None:
    value = data.get(name)
    return None if value is None else _string(name, value, min_len, max_len)


def _string(name: str, value: Any, min_len: int, max_len: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    if not min_len <= len(value) <= max_len:
        raise InvalidInput(name, f"must be {min_len} to {max_len} characters long")
    return value


def optional_integer(data: dict[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    # bool is an int subclass; true is not a count.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(name, "must be a whole number")
    if not low <= value <= high:
        raise InvalidInput(name, f"must be between {low} and {high}")
    return value


def optional_string_list(data: dict[str, Any], name: str, *, max_items: int, max_len: int) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > max_items:
        raise InvalidInput(name, f"must be a list of at most {max_items} strings")
    return tuple(_string(name, item, 1, max_len) for item in value)
