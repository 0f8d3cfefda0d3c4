"""Finding out what a web page costs to use: RSL, Cloudflare pay per crawl, Tollbit, or free."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..cache import Cache
from ..errors import CapacityExceeded, UpstreamError
from ..http import UpstreamResponse, call_upstream
from ..sources import License, Source
from .guard import url_host_allowed
from .rsl import RslError, parse_rsl, price_cents

__all__ = ["DiscoveryPolicy", "LicenseDiscoverer", "TollbitAccount"]

log = logging.getLogger(__name__)

SERVICE = "publisher"
_RSL_PATHS = ("/.well-known/rsl.xml", "/rsl.xml")


@dataclass(frozen=True, slots=True)
class TollbitAccount:
    api_key: str
    base_url: str = "https://gateway.tollbit.com"
    user_agent: str = "micropaymentcrawler"
    max_price_micros: int = 50_000


@dataclass(frozen=True, slots=True)
class DiscoveryPolicy:
    timeout: float = 2.0  # per request
    concurrency: int = 8  # hosts probed at once, process-wide
    budget: float = 3.0  # the longest a search waits for discovery
    backlog: int = 64  # probes that may wait for a place; past that a host reads unknown, uncached
    success_ttl: float = 3600.0
    failure_ttl: float = 60.0
    allow_private: bool = False
    tollbit: TollbitAccount | None = None


class LicenseDiscoverer:
    """Probes each host once per TTL, at most `concurrency` at a time.

    A search waits at most `budget` seconds; a probe still running then goes on in
    the background (the cache's fill task) and serves the next search.
    """

    def __init__(self, session: aiohttp.ClientSession, cache: Cache[dict[str, Any]], policy: DiscoveryPolicy) -> None:
        self._session = session
        self._cache = cache
        self._policy = policy
        self._gate = asyncio.Semaphore(policy.concurrency)
        self._queued = 0

    async def discover(self, sources: list[Source]) -> list[Source]:
        """The sources with their licenses; what is not known within the budget is `unknown`."""
        first_url: dict[str, str] = {}
        for source in sources:
            first_url.setdefault(_origin(source.url), source.url)
        tasks = {host: asyncio.ensure_future(self._license(host, url)) for host, url in first_url.items()}
        if tasks:
            await asyncio.wait(tasks.values(), timeout=self._policy.budget)
        licenses: dict[str, License] = {}
        for host, task in tasks.items():
            if task.done() and not task.cancelled() and task.exception() is None:
                licenses[host] = License(**task.result())
            else:
                task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        return [
            source.with_license(licenses.get(_origin(source.url)) or License.unknown(source.domain))
            for source in sources
        ]

    async def _license(self, host: str, url: str) -> dict[str, Any]:
        return await self._cache.get_or_compute(host, lambda: self._probe(url), ttl=self._ttl)

    def _ttl(self, license: dict[str, Any]) -> float:
        return self._policy.failure_ttl if license["protocol"] == "unknown" else self._policy.success_ttl

    async def _probe(self, url: str) -> dict[str, Any]:
        publisher = urlsplit(url).hostname or ""
        if not self._policy.allow_private and not url_host_allowed(url):
            log.info("not probing %s: a private address", publisher)
            return asdict(License.unknown(publisher))
        if self._queued >= self._policy.backlog:
            # Raised, not returned: an error is shared with waiters but never cached.
            raise CapacityExceeded("license discovery is saturated")
        self._queued += 1
        try:
            await self._gate.acquire()
        finally:
            self._queued -= 1
        try:
            try:
                license = (
                    await self._rsl(url, publisher)
                    or await self._pay_per_crawl(url, publisher)
                    or await self._tollbit(url, publisher)
                    or License("free", 0, publisher=publisher)
                )
            except (UpstreamError, RslError) as exc:
                log.info("license discovery for %s failed: %s", publisher, exc)
                license = License.unknown(publisher)
        finally:
            self._gate.release()
        return asdict(license)

    async def _rsl(self, url: str, publisher: str) -> License | None:
        origin = _origin(url)
        for path in _RSL_PATHS:
            response = await self._fetch("GET", origin + path)
            if response.status == 200:
                terms = parse_rsl(response.body, url)
                return License("rsl", terms.price_cents, terms.currency, publisher)
        return None

    async def _pay_per_crawl(self, url: str, publisher: str) -> License | None:
        response = await self._fetch("HEAD", url)
        if response.status != 402:
            return None
        price = _crawler_price(response.headers.get("crawler-price", ""))
        if price is None:
            return None
        cents, currency = price
        return License("cloudflare", cents, currency, publisher)

    async def _tollbit(self, url: str, publisher: str) -> License | None:
        account = self._policy.tollbit
        if account is None:
            return None
        response = await self._fetch(
            "POST",
            account.base_url.rstrip("/") + "/dev/v2/tokens/content",
            headers={"TollbitKey": account.api_key},
            json={
                "url": url,
                "userAgent": account.user_agent,
                "licenseType": "ON_DEMAND_LICENSE",
                "maxPriceMicros": account.max_price_micros,
                "currency": "USD",
            },
        )
        # Tollbit answers with a token, not a price: the page is licensable, its price unstated.
        return License("tollbit", None, "USD", publisher) if response.status == 200 else None

    async def _fetch(self, method: str, url: str, **kwargs: Any) -> UpstreamResponse:
        return await call_upstream(
            self._session, method, url, service=SERVICE, timeout=self._policy.timeout, **kwargs
        )


def _origin(url: str) -> str:
    """scheme://host[:port]: what licensing is discovered, and cached, for."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _crawler_price(header: str) -> tuple[int, str] | None:
    """`crawler-price: USD 0.01` as whole cents, rounded up, and the currency."""
    currency, _, amount = header.strip().partition(" ")
    cents = price_cents(amount)
    if cents is None or not currency.isalpha() or len(currency) > 8:
        return None
    return cents, currency.upper()
