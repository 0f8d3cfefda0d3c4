"""Writing a planned report: sections in parallel under a semaphore, in order, each on its own."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ServiceError
from ..search import licensing_summary
from .citations import cited_numbers, renumber
from .plan import ReportPlan, SectionPlan
from .writers import SectionWriter, Synthesis, WrittenSection

__all__ = ["SectionDone", "generate_report"]

log = logging.getLogger(__name__)

# Awaited as each section finishes, in the order they finish: (index, title, status).
SectionDone = Callable[[int, str, str], Awaitable[None]]


async def generate_report(
    plan: ReportPlan, writer: SectionWriter, *, concurrency: int, on_section: SectionDone | None = None
) -> dict[str, Any]:
    """The report as a JSON-ready dict. Never more than `concurrency` section calls are in
    flight; a failing section is marked and the others go on."""
    started = time.perf_counter()
    gate = asyncio.Semaphore(concurrency)

    async def write(section: SectionPlan) -> dict[str, Any]:
        async with gate:
            result = await _write_one(writer, plan, section)
        if on_section is not None:
            await on_section(section.index, section.title, result["status"])
        return result

    sections = await asyncio.gather(*(write(section) for section in plan.sections))
    written = [WrittenSection(item["title"], item.get("content", "")) for item in sections]
    synthesis, synthesis_error = await _synthesize(writer, plan, written)
    report = _assemble(plan, sections, synthesis)
    if synthesis_error:
        report["synthesis_error"] = synthesis_error
    report["generation_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


async def _write_one(writer: SectionWriter, plan: ReportPlan, section: SectionPlan) -> dict[str, Any]:
    base = {"index": section.index, "title": section.title}
    if not section.sources:
        return {**base, "status": "error", "content": "", "error": "no sources were assigned to this section"}
    try:
        content = await writer.write_section(plan, section)
    except ServiceError as exc:
        return {**base, "status": "error", "content": "", "error": exc.message}
    except Exception:
        log.exception("section %d (%s) failed", section.index, section.title)
        return {**base, "status": "error", "content": "", "error": "internal error while writing this section"}
    if not content.strip():
        return {**base, "status": "error", "content": "", "error": "the writer produced no text"}
    return {**base, "status": "ok", "content": content}


async def _synthesize(
    writer: SectionWriter, plan: ReportPlan, written: list[WrittenSection]
) -> tuple[Synthesis, str | None]:
    if not any(section.content for section in written):
        return Synthesis("", [], []), None
    try:
        return await writer.synthesize(plan, written), None
    except ServiceError as exc:
        return Synthesis("", [], []), exc.message


def _assemble(plan: ReportPlan, sections: list[dict[str, Any]], synthesis: Synthesis) -> dict[str, Any]:
    """Number citations by first appearance across the report, so each source keeps one number."""
    texts = [section["content"] for section in sections]
    texts += [synthesis.summary, *synthesis.conflicts, *synthesis.research_directions]
    order = [n for n in cited_numbers(texts) if 1 <= n <= len(plan.numbered)]
    mapping = {old: new for new, old in enumerate(order, start=1)}
    for section in sections:
        section["content"] = renumber(section["content"], mapping)
    cited = [plan.numbered[old - 1] for old in order]
    citations = [
        {"n": n, "source_id": source.id, "title": source.title, "url": source.url,
         "license": source.to_dict()["license"]}
        for n, source in enumerate(cited, start=1)
    ]
    failed = sum(section["status"] == "error" for section in sections)
    report = {
        "query": plan.query,
        "title": f"Research report: {plan.query}",
        "status": "complete" if failed == 0 else "partial",
        "summary": renumber(synthesis.summary, mapping),
        "conflicts": [renumber(item, mapping) for item in synthesis.conflicts],
        "research_directions": [renumber(item, mapping) for item in synthesis.research_directions],
        "sections": sections,
        "citations": citations,
        "total_cost_cents": sum(source.license.price_cents or 0 for source in cited),
        "licensing_summary": licensing_summary(cited),
        "sections_failed": failed,
    }
    report["markdown"] = _markdown(report)
    return report


def _markdown(report: dict[str, Any]) -> str:
    lines = [f"# {report['title']}", ""]
    if report["summary"]:
        lines += ["## Summary", "", report["summary"], ""]
    for section in report["sections"]:
        lines += [f"## {section['index'] + 1}. {section['title']}", ""]
        lines += [section["content"] if section["status"] == "ok" else f"*This section could not be written: {section['error']}*", ""]
    if report["conflicts"]:
        lines += ["## Where the sources differ", "", *[f"- {item}" for item in report["conflicts"]], ""]
    if report["research_directions"]:
        lines += ["## Directions for further research", "", *[f"- {item}" for item in report["research_directions"]], ""]
    lines += ["## References", ""]
    for citation in report["citations"]:
        license = citation["license"]
        price = "price not stated" if license["price_cents"] is None else f"{license['price_cents']}¢"
        lines.append(f"{citation['n']}. [{citation['title']}]({citation['url']}) ({license['protocol']}, {price})")
    return "\n".join(lines) + "\n"
