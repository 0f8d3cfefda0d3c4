"""Searching for sources, and looking one up by id."""

from __future__ import annotations

from aiohttp import web

from core.errors import InvalidInput
from core.search import SearchQuery, licensing_summary, total_cost_cents
from core.search.query import MAX_QUERY_CHARS
from server.keys import principal_key, search_service_key

from .json import json_response, optional_integer, optional_string_list, read_json_object, required_string

__all__ = ["get_source", "search"]


async def search(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    text = required_string(data, "query", min_len=0, max_len=10 * MAX_QUERY_CHARS).strip()
    if not 1 <= len(text) <= MAX_QUERY_CHARS:
        raise InvalidInput("query", f"must be 1 to {MAX_QUERY_CHARS} characters long after trimming")
    query = SearchQuery(
        text=text,
        max_results=optional_integer(data, "max_results", default=10, low=1, high=20),
        include_domains=_domains(data, "include_domains"),
        exclude_domains=_domains(data, "exclude_domains"),
    )
    outcome = await request.config_dict[search_service_key].search(query, user_id=request[principal_key].user_id)
    return json_response(
        {
            "query": text,
            "sources": [source.to_dict() for source in outcome.sources],
            "total_cost_cents": total_cost_cents(outcome.sources),
            "licensing_summary": licensing_summary(outcome.sources),
            "cached": outcome.cached,
        }
    )


async def get_source(request: web.Request) -> web.Response:
    source = await request.config_dict[search_service_key].source(request.match_info["source_id"])
    return json_response(source.to_dict())


def _domains(data: dict[str, object], name: str) -> tuple[str, ...]:
    domains = tuple(domain.strip().lower() for domain in optional_string_list(data, name, max_items=50, max_len=253))
    if any(not domain or " " in domain or "/" in domain for domain in domains):
        raise InvalidInput(name, "must hold bare domain names such as example.org")
    return domains
