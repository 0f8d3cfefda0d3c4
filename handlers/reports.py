"""Research reports: create one (waiting, or in the background), read it, download it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from core.errors import Conflict, InvalidInput, UpstreamError
from core.reports import OutlineItem, ReportHandle, ReportRequest
from server.keys import principal_key, report_service_key

from .json import json_response, optional_string_list, read_json_object, required_string

__all__ = ["create_report", "get_markdown", "get_report", "report_body", "report_request"]

MAX_SECTIONS = 12
# Internal bookkeeping that a client has no use for.
_PRIVATE_FIELDS = ("sections_failed", "generation_ms")


def report_request(data: dict[str, Any]) -> ReportRequest:
    """A report request from a JSON body or a websocket frame."""
    query = required_string(data, "query", min_len=0, max_len=2000).strip()
    if not 3 <= len(query) <= 500:
        raise InvalidInput("query", "must be 3 to 500 characters long after trimming")
    source_ids = optional_string_list(data, "source_ids", max_items=50, max_len=100) if "source_ids" in data else None
    if source_ids is not None and not source_ids:
        raise InvalidInput("source_ids", "must name at least one source, or be left out")
    outline = data.get("outline")
    if outline is None:
        return ReportRequest(query, source_ids, None)
    if not isinstance(outline, list) or not 1 <= len(outline) <= MAX_SECTIONS:
        raise InvalidInput("outline", f"must be a list of 1 to {MAX_SECTIONS} sections")
    items = []
    for position, section in enumerate(outline):
        field = f"outline[{position}]"
        if not isinstance(section, dict):
            raise InvalidInput(field, "must be an object with a title")
        title = required_string(section, "title", max_len=200).strip()
        if not title:
            raise InvalidInput(f"{field}.title", "must not be blank")
        ids = optional_string_list(section, "source_ids", max_items=20, max_len=100) if "source_ids" in section else None
        items.append(OutlineItem(title, ids or None))
    return ReportRequest(query, source_ids, tuple(items))


def report_body(report_id: str, report: dict[str, Any], *, cached: bool, elapsed_ms: float) -> dict[str, Any]:
    body = {"report_id": report_id, **{k: v for k, v in report.items() if k not in _PRIVATE_FIELDS}}
    body.update(cached=cached, elapsed_ms=round(elapsed_ms, 1))
    return body


async def create_report(request: web.Request) -> web.Response:
    started = time.perf_counter()
    report_request_ = report_request(await read_json_object(request))
    handle: ReportHandle = await request.config_dict[report_service_key].start(
        request[principal_key].user_id, report_request_
    )
    if "respond-async" in request.headers.get("Prefer", "").lower():
        status_url = str(request.app.router["report"].url_for(report_id=handle.report_id))
        return json_response({"report_id": handle.report_id, "status_url": status_url}, status=202,
                             headers={"Location": status_url})
    # Shielded: if this request is cancelled, the report still finishes and is kept.
    report = await asyncio.shield(handle.task)
    elapsed = (time.perf_counter() - started) * 1000
    return json_response(report_body(handle.report_id, report, cached=handle.cached, elapsed_ms=elapsed))


async def get_report(request: web.Request) -> web.Response:
    report_id = request.match_info["report_id"]
    job = await request.config_dict[report_service_key].status(request[principal_key].user_id, report_id)
    if job["status"] == "running":
        return json_response({"report_id": report_id, "status": "running",
                              "sections_done": job["sections_done"], "sections_total": job["sections_total"]})
    if job["status"] == "failed":
        raise UpstreamError("report", job["error"])
    return json_response(report_body(report_id, job["report"], cached=True, elapsed_ms=0.0))


async def get_markdown(request: web.Request) -> web.Response:
    report_id = request.match_info["report_id"]
    job = await request.config_dict[report_service_key].status(request[principal_key].user_id, report_id)
    if job["status"] == "running":
        raise Conflict("the report is still being written")
    if job["status"] == "failed":
        raise UpstreamError("report", job["error"])
    return web.Response(
        text=job["report"]["markdown"],
        content_type="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{report_id}.md"'},
    )
