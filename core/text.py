"""Words and sentences: the tokenizer behind ranking, and sentence picking for snippets."""

from __future__ import annotations

import re

__all__ = ["Sentence", "best_sentences", "pick_sentences", "sentence_terms", "split_sentences", "tokenize"]

_WORD = re.compile(r"[a-z0-9]+")
# Words too common to tell documents apart; a short list keeps domain words like "policy".
_STOPWORDS = frozenset(
    """a about also an and any are as at back be been but by can come could did do does for from get had has
    have how i if in into is it its just know like make many may me more most much my need no not of on or
    our out over please really should so some such tell than thank thanks that the their them then there
    these they this those to under up very want was we were what when where which while who why will with
    would you your""".split()
)


def _stem(word: str) -> str:
    """A light plural fold, enough that "rates" finds "rate" and "policies" finds "policy"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    return [_stem(word) for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


# A sentence ends at . ! or ? followed by space and a capital, digit or quote; good enough for prose.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_MARKDOWN_NOISE = re.compile(r"^#+\s.*$|[*_`]", re.MULTILINE)


def split_sentences(text: str) -> list[str]:
    plain = _MARKDOWN_NOISE.sub("", text)
    sentences: list[str] = []
    for paragraph in plain.split("\n\n"):
        flat = " ".join(paragraph.split())
        if flat:
            sentences.extend(part.strip() for part in _SENTENCE_END.split(flat) if part.strip())
    return sentences


Sentence = tuple[str, frozenset[str]]


def sentence_terms(text: str) -> list[Sentence]:
    """Each sentence with its terms, computed once so that picking is only set arithmetic."""
    return [(sentence, frozenset(tokenize(sentence))) for sentence in split_sentences(text)]


def pick_sentences(sentences: list[Sentence], query_terms: set[str], limit: int) -> list[str]:
    """The `limit` sentences sharing the most query terms, kept in their original order."""
    overlap = [len(terms & query_terms) for _, terms in sentences]
    ranked = sorted(range(len(sentences)), key=lambda i: (-overlap[i], i))[:limit]
    return [sentences[i][0] for i in sorted(ranked)]


def best_sentences(text: str, query: str, limit: int) -> list[str]:
    return pick_sentences(sentence_terms(text), set(tokenize(query)), limit)
