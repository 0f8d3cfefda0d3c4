"""Keeping citations honest: only numbers a section was given, numbered once per report."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["cited_numbers", "keep_citations", "renumber", "strip_citations"]

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def keep_citations(text: str, allowed: Iterable[int]) -> str:
    """Drop any [n] outside `allowed`; "[1, 3]" becomes "[1][3]"."""
    permitted = set(allowed)

    def replace(match: re.Match[str]) -> str:
        numbers = [int(part) for part in match.group(1).split(",")]
        return "".join(f"[{n}]" for n in numbers if n in permitted)

    return re.sub(r"[ \t]+(?=[.,;:])", "", _CITATION.sub(replace, text))


def cited_numbers(texts: Iterable[str]) -> list[int]:
    """Every cited number, in order of first appearance."""
    seen: dict[int, None] = {}
    for text in texts:
        for match in _CITATION.finditer(text):
            for part in match.group(1).split(","):
                seen.setdefault(int(part), None)
    return list(seen)


def renumber(text: str, mapping: dict[int, int]) -> str:
    """Apply old -> new numbers; a number outside the mapping is dropped, never guessed."""
    return _CITATION.sub(
        lambda match: "".join(f"[{mapping[n]}]" for n in map(int, match.group(1).split(",")) if n in mapping), text
    )


def strip_citations(text: str) -> str:
    """A quoted sentence's own footnote marks ("rose sharply.[14]") would read as ours: drop them."""
    return keep_citations(text, ())
