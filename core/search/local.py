"""The embedded search provider: BM25 over the shipped corpus, no network."""

from __future__ import annotations

from ..text import Sentence, pick_sentences, sentence_terms, tokenize
from .bm25 import BM25Index
from .corpus import CorpusDocument
from .query import SearchQuery
from ..sources import SNIPPET_CHARS, Source

__all__ = ["LocalSearch"]



class LocalSearch:
    name = "local"

    def __init__(self, documents: list[CorpusDocument]) -> None:
        self._documents = documents
        self._by_id = {document.id: document for document in documents}
        # The title counts twice: a word in the title says more than one in the body.
        self._index = BM25Index([tokenize(doc.title) * 2 + tokenize(doc.body) for doc in documents])
        self._sentences: dict[str, list[Sentence]] = {doc.id: sentence_terms(doc.body) for doc in documents}

    def __len__(self) -> int:
        return len(self._documents)

    def document(self, source_id: str) -> CorpusDocument | None:
        return self._by_id.get(source_id)

    def sentences(self, source_id: str) -> list[Sentence]:
        """A document's sentences with their terms, for extractive writing."""
        return self._sentences.get(source_id, [])

    def ranked(self, text: str) -> list[tuple[CorpusDocument, float]]:
        """Every document matching `text`, best first, with its BM25 score."""
        return [(self._documents[index], score) for index, score in self._index.top(text, len(self._documents))]

    async def search(self, query: SearchQuery) -> list[Source]:
        hits = [(document, score) for document, score in self.ranked(query.text) if query.allows(document.domain)]
        hits = hits[: query.max_results]
        best = hits[0][1] if hits else 1.0
        return [self.source(document, query.text, score / best) for document, score in hits]

    def source(self, document: CorpusDocument, query: str = "", relevance: float = 0.0) -> Source:
        """The document as a source; its snippet favours the sentences about `query`."""
        terms = set(tokenize(query or document.title))
        snippet = " ".join(pick_sentences(self._sentences[document.id], terms, 2))
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
        return Source(
            id=document.id,
            title=document.title,
            url=document.url,
            domain=document.domain,
            snippet=snippet,
            author=document.author,
            published_date=document.published,
            relevance_score=round(relevance, 4),
            source_type="corpus",
            license=document.license,
        )
