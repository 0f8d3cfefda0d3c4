"""Finding sources: the local corpus and Tavily providers, the search cache, the source registry."""

from .corpus import CorpusDocument, load_corpus
from .local import LocalSearch
from .query import SearchQuery
from .service import SearchOutcome, SearchProvider, SearchService
from ..sources import License, Source, licensing_summary, source_id, total_cost_cents
from .tavily import TavilySearch

__all__ = [
    "CorpusDocument",
    "License",
    "LocalSearch",
    "SearchOutcome",
    "SearchProvider",
    "SearchQuery",
    "SearchService",
    "Source",
    "TavilySearch",
    "licensing_summary",
    "load_corpus",
    "source_id",
    "total_cost_cents",
]
