"""The embedded model: an offline, extractive writer over the local corpus. Not a language model."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from ..search.local import LocalSearch
from ..text import pick_sentences, tokenize
from .base import ChatMessage

__all__ = ["LocalModel"]

_YEAR = re.compile(r"\b(19|20)\d\d\b|\b(last|past|next) (year|decade|\d+ years)\b|\bsince\b", re.IGNORECASE)
_PLACE = re.compile(
    r"\b(global|worldwide|europe|european|eu|us|u\.s\.|united states|america|uk|britain|china|india|japan|"
    r"germany|france|africa|asia|latin america|canada|australia|netherlands|country|countries|city|cities)\b",
    re.IGNORECASE,
)
_KIND = re.compile(
    r"\b(peer[- ]reviewed|academic|studies|study|news|journalism|government|official|data|statistics|"
    r"reports?|policy papers?|explainers?)\b",
    re.IGNORECASE,
)
_PIECE = re.compile(r"\S+\s*")
RELEVANCE_FLOOR = 0.7


class LocalModel:
    """Answers from the corpus: the sentences most relevant to the conversation, each
    with its [n] citation, then one question that narrows the research.

    Deterministic and instant; it copies sentences, it does not write new ones.
    """

    name = "local"
    model = "extractive"

    def __init__(self, corpus: LocalSearch, *, documents: int = 3) -> None:
        self._corpus = corpus
        self._documents = documents

    async def complete(self, system: str, messages: list[ChatMessage], max_tokens: int) -> str:
        return self.compose(messages, max_tokens)

    async def stream(self, system: str, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str]:
        words = _PIECE.findall(self.compose(messages, max_tokens))
        # Three words a delta, yielding to the loop between them, as a model's stream would.
        for start in range(0, len(words), 3):
            yield "".join(words[start : start + 3])
            await asyncio.sleep(0)

    def compose(self, messages: list[ChatMessage], max_tokens: int) -> str:
        asked = [message["content"] for message in messages if message["role"] == "user"]
        # The recent questions together: a follow-up such as "in Europe, since 2019" narrows the
        # earlier topic rather than replacing it.
        focus = " ".join(asked[-3:])
        ranked = self._corpus.ranked(focus)
        # Only documents nearly as relevant as the best: a weak match is noise, not a source.
        hits = [hit for hit in ranked[: self._documents] if hit[1] >= RELEVANCE_FLOOR * ranked[0][1]]
        if not hits:
            return (
                "I could not find anything on that in the offline corpus, which covers energy policy, "
                "monetary policy, public health, AI regulation, climate adaptation and web content "
                "licensing. Could you put the question in terms of one of those?"
            )
        terms = set(tokenize(focus))
        lines = ["Here is what the sources I can search offline say:"]
        references = []
        for number, (document, _) in enumerate(hits, start=1):
            best = pick_sentences(self._corpus.sentences(document.id), terms, 1)
            if best:
                lines.append(f"{best[0]} [{number}]")
            references.append(f"[{number}] {document.title}, {document.license.publisher} ({document.published})")
        text = " ".join(lines) + "\n\n" + _scoping_question(" ".join(asked)) + "\n\nSources:\n" + "\n".join(references)
        return text[: max_tokens * 4]  # about four characters a token


def _scoping_question(conversation: str) -> str:
    if not _YEAR.search(conversation):
        return "To narrow this down: which time frame matters to you, for example the last five years, or since a particular law or event?"
    if not _PLACE.search(conversation):
        return "Which geography should the research cover: one country, a region such as the EU, or the world?"
    if not _KIND.search(conversation):
        return "What kind of sources would serve you best: official and government documents, academic studies, or news and explainers?"
    return "The question looks well scoped. Shall I search for sources on it now?"
