"""Who writes a section and the synthesis: the offline extractive writer, or a language model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import orjson

from ..errors import UpstreamBadResponse
from ..llm import LLMProvider
from ..search import LocalSearch, Source
from ..text import Sentence, pick_sentences, sentence_terms, tokenize
from .citations import keep_citations, strip_citations
from .plan import ReportPlan, SectionPlan

__all__ = ["ExtractiveWriter", "ModelWriter", "SectionWriter", "Synthesis", "WrittenSection"]

SOURCE_TEXT_CHARS = 4000  # per source, in a model's prompt
_CONTRAST = re.compile(r"\b(however|but|critics|disputed|debate[ds]?|contested|disagree\w*|whereas|although)\b", re.I)


@dataclass(frozen=True, slots=True)
class WrittenSection:
    title: str
    content: str


@dataclass(frozen=True, slots=True)
class Synthesis:
    summary: str
    conflicts: list[str]
    research_directions: list[str]


class SectionWriter(Protocol):
    name: str

    async def write_section(self, plan: ReportPlan, section: SectionPlan) -> str: ...

    async def synthesize(self, plan: ReportPlan, sections: list[WrittenSection]) -> Synthesis: ...


class SourceTexts:
    """A source's full text where the local corpus has it, else the snippet search returned."""

    def __init__(self, corpus: LocalSearch) -> None:
        self._corpus = corpus

    def sentences(self, source: Source) -> list[Sentence]:
        return self._corpus.sentences(source.id) or sentence_terms(source.snippet)

    def text(self, source: Source) -> str:
        document = self._corpus.document(source.id)
        return document.body if document is not None else source.snippet


class ExtractiveWriter:
    """Writes by quoting: each section is its sources' sentences most relevant to the section
    title and the query, a paragraph a source, every sentence cited. Deterministic and fast."""

    name = "local-extractive"

    def __init__(self, corpus: LocalSearch, *, sentences_per_source: int = 3) -> None:
        self._texts = SourceTexts(corpus)
        self._per_source = sentences_per_source

    async def write_section(self, plan: ReportPlan, section: SectionPlan) -> str:
        terms = set(tokenize(f"{section.title} {plan.query}"))
        paragraphs = []
        for source in section.sources:
            picked = pick_sentences(self._texts.sentences(source), terms, self._per_source)
            if picked:
                number = plan.number_of(source)
                paragraphs.append(" ".join(f"{strip_citations(sentence)} [{number}]" for sentence in picked))
        return "\n\n".join(paragraphs)

    async def synthesize(self, plan: ReportPlan, sections: list[WrittenSection]) -> Synthesis:
        query_terms = set(tokenize(plan.query))
        # Sections may share a source, and so a first sentence: each is said once.
        summary = list(dict.fromkeys(_first_sentence(section.content) for section in sections if section.content))[:4]
        conflicts = []
        for number, source in enumerate(plan.numbered, start=1):
            contrasting = [item for item in self._texts.sentences(source) if _CONTRAST.search(item[0])]
            for sentence in pick_sentences(contrasting, query_terms, 1):
                conflicts.append(f"{strip_citations(sentence)} [{number}]")
        return Synthesis(" ".join(summary), conflicts[:3], _directions(plan, sections))


class ModelWriter:
    """A language model writes each section from only that section's numbered sources."""

    def __init__(self, llm: LLMProvider, corpus: LocalSearch, *, max_tokens: int) -> None:
        self._llm = llm
        self._texts = SourceTexts(corpus)
        self._max_tokens = max_tokens
        self.name = f"{llm.name}:{llm.model}"

    async def write_section(self, plan: ReportPlan, section: SectionPlan) -> str:
        numbers = [plan.number_of(source) for source in section.sources]
        listed = "\n\n".join(
            f"[{n}] {source.title} ({source.domain}, {source.published_date or 'undated'})\n"
            f"{self._texts.text(source)[:SOURCE_TEXT_CHARS]}"
            for n, source in zip(numbers, section.sources, strict=True)
        )
        prompt = (
            f"Research question: {plan.query}\n\nWrite the section titled \"{section.title}\" of a research "
            f"report, in Markdown, two to four paragraphs, without a heading. Use only these sources, and cite "
            f"them as [n] with only the numbers {', '.join(map(str, numbers))}:\n\n{listed}"
        )
        text = await self._llm.complete(_SECTION_SYSTEM, [{"role": "user", "content": prompt}], self._max_tokens)
        return keep_citations(text, numbers).strip()

    async def synthesize(self, plan: ReportPlan, sections: list[WrittenSection]) -> Synthesis:
        written = "\n\n".join(f"## {section.title}\n{section.content}" for section in sections if section.content)
        prompt = (
            f"Research question: {plan.query}\n\nThe report's sections:\n\n{written}\n\nAnswer with a JSON object "
            '{"summary": str, "conflicts": [str], "research_directions": [str]}: a summary of one paragraph, '
            "where the sources disagree (may be empty), and three to five directions for further research. "
            "Keep the [n] citations the sections use."
        )
        text = await self._llm.complete(_SYNTHESIS_SYSTEM, [{"role": "user", "content": prompt}], self._max_tokens)
        allowed = range(1, len(plan.numbered) + 1)
        data = _json_object(text)

        def strings(key: str) -> list[str]:
            items = data.get(key)
            return [keep_citations(str(item), allowed) for item in items if item][:5] if isinstance(items, list) else []

        summary = keep_citations(str(data.get("summary", "")), allowed)
        return Synthesis(summary, strings("conflicts"), strings("research_directions"))


_SECTION_SYSTEM = "You write sections of research reports. You state only what the given sources support."
_SYNTHESIS_SYSTEM = "You review research reports and answer only with the JSON object asked for."


def _json_object(text: str) -> dict[str, object]:
    """The JSON object in a model's answer, fenced in ``` or not."""
    start, end = text.find("{"), text.rfind("}")
    try:
        data = orjson.loads(text[start : end + 1]) if start >= 0 else None
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamBadResponse("model", "the synthesis was not the JSON object asked for")
    return data


def _first_sentence(content: str) -> str:
    sentences = re.split(r"(?<=\])\s+", content.strip(), maxsplit=1)
    return sentences[0]


def _directions(plan: ReportPlan, sections: list[WrittenSection]) -> list[str]:
    """Three to five next steps that follow from what this report does and does not cover."""
    dated = sorted(source.published_date for source in plan.numbered if source.published_date)
    publishers = {source.license.publisher or source.domain for source in plan.numbered}
    directions = []
    if dated:
        directions.append(f"Look for developments after {dated[-1]}, the date of the newest source used here.")
    directions.append(
        "Read the primary documents behind these sources (laws, official statistics, court rulings, studies) "
        "rather than summaries of them."
    )
    directions.append(
        f"Widen the range of voices: the {len(plan.numbered)} sources come from {len(publishers)} publishers."
    )
    empty = [section.title for section in sections if not section.content]
    if empty:
        directions.append(f"Find sources for the sections that could not be written: {', '.join(empty)}.")
    directions.append(f"Narrow the question \"{plan.query}\" to one country or period and compare it with another.")
    return directions[:5]
