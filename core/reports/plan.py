"""What a report will be: its sections, and which sources each is written from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from ..search import Source
from ..text import tokenize

__all__ = ["OutlineItem", "ReportPlan", "SectionPlan", "plan_report", "propose_outline"]

# Headings for a proposed outline, in reading order; a report uses the first three to five.
_PROPOSED = (
    "Background and context",
    "Key developments and decisions",
    "Evidence, data and impacts",
    "Debates and differing views",
    "Outlook and open questions",
)
SOURCES_PER_SECTION = 3


@dataclass(frozen=True, slots=True)
class OutlineItem:
    """A section as requested: a title, and perhaps the sources to write it from."""

    title: str
    source_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class SectionPlan:
    index: int
    title: str
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class ReportPlan:
    query: str
    sections: tuple[SectionPlan, ...]
    # Every source a section may cite, numbered [1], [2], … in order of first use.
    numbered: tuple[Source, ...]

    def cache_key(self, writer: str) -> str:
        """A SHA-256 of the query, the titles, which sources each section uses, and the writer.

        Giving a section other sources is another report.
        """
        normalized = {
            "query": " ".join(self.query.lower().split()),
            "sections": [[section.title, [source.id for source in section.sources]] for section in self.sections],
            "writer": writer,
        }
        return hashlib.sha256(orjson.dumps(normalized)).hexdigest()

    def number_of(self, source: Source) -> int:
        return next(n for n, numbered in enumerate(self.numbered, start=1) if numbered.id == source.id)


def propose_outline(query: str, sources: list[Source]) -> list[OutlineItem]:
    """Three to five sections, more when there are more sources to draw on."""
    count = max(3, min(5, (len(sources) + 1) // 2))
    return [OutlineItem(title) for title in _PROPOSED[:count]]


def plan_report(
    query: str, selected: list[Source], outline: list[OutlineItem], named: dict[str, Source]
) -> ReportPlan:
    """Give each section its sources: the ones it names, else the selected sources most relevant
    to its title (a proposed outline's generic titles fall back to rank order)."""
    sections = []
    for index, item in enumerate(outline):
        if item.source_ids is not None:
            sources = tuple(named[source_id] for source_id in item.source_ids)
        else:
            sources = _most_relevant(item.title, selected, index)
        sections.append(SectionPlan(index, item.title, sources))
    numbered: dict[str, Source] = {}
    for section in sections:
        for source in section.sources:
            numbered.setdefault(source.id, source)
    return ReportPlan(query, tuple(sections), tuple(numbered.values()))


def _most_relevant(title: str, selected: list[Source], index: int) -> tuple[Source, ...]:
    if not selected:
        return ()
    title_terms = set(tokenize(title))

    def score(position: int) -> tuple[int, int]:
        source = selected[position]
        words = set(tokenize(f"{source.title} {source.snippet}"))
        # Title words decide; rotating by section keeps generic titles from all taking the top sources.
        return (len(words & title_terms), -((position - index * SOURCES_PER_SECTION) % len(selected)))

    ranked = sorted(range(len(selected)), key=score, reverse=True)
    return tuple(selected[position] for position in ranked[:SOURCES_PER_SECTION])
