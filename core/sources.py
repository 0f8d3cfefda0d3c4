"""What a source is, how it is identified, and what a set of them costs."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "MAX_PRICE_CENTS",
    "SNIPPET_CHARS",
    "License",
    "Source",
    "domain_of",
    "licensing_summary",
    "normalize_url",
    "source_id",
    "total_cost_cents",
]

PROTOCOLS = ("rsl", "tollbit", "cloudflare", "free", "unknown")
SNIPPET_CHARS = 320
# A price above this (a million dollars) is a publisher's mistake or an attack, not a price.
MAX_PRICE_CENTS = 100_000_000
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ref_src"})


def normalize_url(url: str) -> str:
    """One spelling per page: no scheme, lower-case host without www., no default port,
    no fragment, no tracking parameters, sorted query, no trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode(
        sorted(
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in _TRACKING_PARAMS and not key.startswith("utm_")
        )
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", host, path, query, "")).removeprefix("//")


def source_id(url: str) -> str:
    """Stable across searches, processes and instances: a hash of the normalized URL."""
    return "src_" + hashlib.sha256(normalize_url(url).encode()).hexdigest()[:20]


def domain_of(url: str) -> str:
    return (urlsplit(url.strip()).hostname or "").lower().removeprefix("www.")


@dataclass(frozen=True, slots=True)
class License:
    protocol: str  # one of PROTOCOLS
    price_cents: int | None  # None where the protocol does not reveal a price (Tollbit) or it is unknown
    currency: str = "USD"
    publisher: str | None = None
    requires_attribution: bool = True

    @classmethod
    def unknown(cls, publisher: str | None = None) -> License:
        return cls("unknown", None, publisher=publisher)


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    url: str
    domain: str
    snippet: str
    author: str | None
    published_date: str | None
    relevance_score: float
    source_type: str  # "corpus" or "web"
    license: License

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(**{**data, "license": License(**data["license"])})

    def with_license(self, license: License) -> Source:
        return replace(self, license=license)


def total_cost_cents(sources: list[Source]) -> int:
    return sum(source.license.price_cents or 0 for source in sources)


def licensing_summary(sources: list[Source]) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = {}
    for source in sources:
        entry = summary.setdefault(source.license.protocol, {"count": 0, "total_cents": 0})
        entry["count"] += 1
        entry["total_cents"] += source.license.price_cents or 0
    return summary
