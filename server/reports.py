"""The report writer and the report service, built at start-up; running reports cancelled at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from core.reports import ExtractiveWriter, ModelWriter, ReportService, SectionWriter

from .keys import caches_key, corpus_key, llm_key, report_service_key, search_service_key, settings_key

__all__ = ["reports_ctx"]


async def reports_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    writer: SectionWriter
    if settings.llm_provider == "local":
        writer = ExtractiveWriter(app[corpus_key])
    else:
        writer = ModelWriter(app[llm_key], app[corpus_key], max_tokens=settings.llm_max_tokens)
    service = ReportService(
        app[search_service_key],
        writer,
        app[caches_key]["report"],
        app[caches_key]["report_job"],
        concurrency=settings.report_concurrency,
        max_per_user=settings.reports_max_per_user,
        max_running=settings.reports_max_running,
        default_sources=settings.report_sources,
    )
    app[report_service_key] = service
    yield
    await service.close()
