"""Okapi BM25 over a fixed set of documents, indexed once."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Sequence

from ..text import tokenize

__all__ = ["BM25Index"]


class BM25Index:
    """Postings lists from term to (document, term frequency); a query touches only its terms."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75) -> None:
        self._k1, self._b = k1, b
        self._lengths = [len(tokens) for tokens in documents]
        count = len(documents)
        self._average_length = (sum(self._lengths) / count) if count else 0.0
        self._postings: dict[str, list[tuple[int, int]]] = {}
        for index, tokens in enumerate(documents):
            for term, frequency in Counter(tokens).items():
                self._postings.setdefault(term, []).append((index, frequency))
        self._idf = {
            term: math.log(1 + (count - len(postings) + 0.5) / (len(postings) + 0.5))
            for term, postings in self._postings.items()
        }

    def __len__(self) -> int:
        return len(self._lengths)

    def scores(self, query: str) -> dict[int, float]:
        k1, b, average = self._k1, self._b, self._average_length or 1.0
        scores: dict[int, float] = {}
        for term in set(tokenize(query)):
            postings = self._postings.get(term)
            if postings is None:
                continue
            idf = self._idf[term]
            for index, frequency in postings:
                norm = k1 * (1 - b + b * self._lengths[index] / average)
                scores[index] = scores.get(index, 0.0) + idf * frequency * (k1 + 1) / (frequency + norm)
        return scores

    def top(self, query: str, limit: int) -> list[tuple[int, float]]:
        """The best `limit` documents as (index, score), best first; ties keep corpus order."""
        scores = self.scores(query)
        return heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
