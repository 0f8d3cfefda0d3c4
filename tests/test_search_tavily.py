"""SEARCH_PROVIDER=tavily against a fake Tavily, with licenses discovered from fake publishers."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp.abc import AbstractResolver

from core.licensing import PublicOnlyResolver
from tests.conftest import bearer
from tests.fakes.publisher import FakePublisher, rsl_document
from tests.fakes.tollbit import FakeTollbit
from tests.test_auth_local import forge

AUTH = bearer(forge())


def result(url: str, title: str = "An article", score: float = 0.9) -> dict[str, object]:
    return {"title": title, "url": url, "content": f"What {title} says.", "score": score, "published_date": "2025-01-02"}


async def tavily_client(app_client, fake_tavily, **env):
    env = {
        "search_provider": "tavily",
        "tavily_base_url": fake_tavily.url,
        "tavily_api_key": "tvly-test-key",
        "allow_private_fetch": "true",
        "retry_base_delay": 0.001,
        **env,
    }
    return await app_client(**env)


async def search(client, query="grid interconnection queues", **body):
    return await client.post("/api/search", json={"query": query, **body}, headers=AUTH)


async def licenses_for(client, **body) -> dict[str, dict[str, object]]:
    response = await search(client, **body)
    assert response.status == 200, await response.text()
    return {source["url"]: source["license"] for source in (await response.json())["sources"]}


async def test_the_request_speaks_tavilys_protocol(app_client, fake_tavily):
    client = await tavily_client(app_client, fake_tavily)

    await search(client, query="q" * 400, max_results=20, include_domains=["example.org"])

    headers, body = fake_tavily.requests[0]
    assert headers["Authorization"] == "Bearer tvly-test-key"
    assert body == {"query": "q" * 400, "search_depth": "basic", "max_results": 20, "include_domains": ["example.org"]}


async def test_results_are_sources_deduplicated_by_normalized_url(app_client, fake_tavily, serve):
    site = await serve(FakePublisher())
    fake_tavily.results = [
        result(site.page("/story?utm_source=x"), "Story"),
        result(site.page("/story/"), "Story again"),
        result(site.page("/other"), "Other"),
    ]
    client = await tavily_client(app_client, fake_tavily)

    body = await (await search(client)).json()

    assert [source["title"] for source in body["sources"]] == ["Story", "Other"]
    assert {source["source_type"] for source in body["sources"]} == {"web"}


async def test_rsl_price_is_read_from_the_well_known_document(app_client, fake_tavily, serve):
    site = await serve(FakePublisher(rsl=rsl_document("0.05")))
    fake_tavily.results = [result(site.page("/a"))]
    client = await tavily_client(app_client, fake_tavily)

    license = (await licenses_for(client))[site.page("/a")]

    assert license["protocol"] == "rsl"
    assert license["price_cents"] == 5
    assert license["currency"] == "USD"


async def test_rsl_falls_back_to_rsl_xml_at_the_root(app_client, fake_tavily, serve):
    site = await serve(FakePublisher(rsl=rsl_document("0.123"), rsl_path="/rsl.xml"))
    fake_tavily.results = [result(site.page("/a"))]
    client = await tavily_client(app_client, fake_tavily)

    license = (await licenses_for(client))[site.page("/a")]

    assert (license["protocol"], license["price_cents"]) == ("rsl", 13)


@pytest.mark.parametrize(
    "document",
    [
        "<rsl><content><license>",
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rsl>&b;</rsl>',
        "<html>not rsl</html>",
        rsl_document("a lot"),
    ],
    ids=["truncated", "entity-expansion", "wrong-root", "bad-amount"],
)
async def test_malformed_rsl_gives_unknown_without_an_error(app_client, fake_tavily, serve, document):
    site = await serve(FakePublisher(rsl=document))
    fake_tavily.results = [result(site.page("/a"))]
    client = await tavily_client(app_client, fake_tavily)

    license = (await licenses_for(client))[site.page("/a")]

    assert license["protocol"] == "unknown"
    assert license["price_cents"] is None


async def test_a_402_with_crawler_price_is_cloudflare_pay_per_crawl(app_client, fake_tavily, serve):
    site = await serve(FakePublisher(crawler_price="USD 0.01"))
    fake_tavily.results = [result(site.page("/paid"))]
    client = await tavily_client(app_client, fake_tavily)

    license = (await licenses_for(client))[site.page("/paid")]

    assert (license["protocol"], license["price_cents"], license["currency"]) == ("cloudflare", 1, "USD")
    assert ("HEAD", "/paid") in site.requests


async def test_a_plain_site_is_free_and_tollbit_is_asked_only_with_a_key(app_client, fake_tavily, serve):
    plain = await serve(FakePublisher())
    fake_tavily.results = [result(plain.page("/a"))]
    client = await tavily_client(app_client, fake_tavily)

    license = (await licenses_for(client))[plain.page("/a")]

    assert (license["protocol"], license["price_cents"]) == ("free", 0)


async def test_tollbit_licensable_pages_are_tollbit(app_client, fake_tavily, serve):
    site = await serve(FakePublisher())
    tollbit = await serve(FakeTollbit("tb-key", licensed_prefix=""))
    tollbit.licensed_prefix = site.url
    fake_tavily.results = [result(site.page("/a"))]
    client = await tavily_client(app_client, fake_tavily, tollbit_api_key="tb-key", tollbit_base_url=tollbit.url)

    license = (await licenses_for(client))[site.page("/a")]

    assert (license["protocol"], license["price_cents"]) == ("tollbit", None)
    request = tollbit.requests[0]
    assert request["url"] == site.page("/a")
    assert request["licenseType"] == "ON_DEMAND_LICENSE" and request["currency"] == "USD"


async def test_a_host_is_probed_once_for_many_pages_and_searches(app_client, fake_tavily, serve):
    site = await serve(FakePublisher(rsl=rsl_document("0.02")))
    fake_tavily.results = [result(site.page(f"/p{n}"), f"Page {n}") for n in range(5)]
    client = await tavily_client(app_client, fake_tavily)

    first = await licenses_for(client, query="first query")
    second = await licenses_for(client, query="another query")

    assert {license["protocol"] for license in [*first.values(), *second.values()]} == {"rsl"}
    assert site.requests == [("GET", "/.well-known/rsl.xml")]


async def test_a_stalled_publisher_never_holds_a_search_past_the_budget(app_client, fake_tavily, serve):
    stalled = await serve(FakePublisher(stalled=True))
    quick = await serve(FakePublisher(crawler_price="USD 0.02"))
    fake_tavily.results = [result(stalled.page("/slow")), result(quick.page("/quick"))]
    client = await tavily_client(app_client, fake_tavily, discovery_timeout=30, discovery_budget=0.2)
    try:
        # Unbounded, this would wait for the stalled publisher until the 3 s guard fails it.
        licenses = await asyncio.wait_for(licenses_for(client), timeout=3)
    finally:
        stalled.release()

    assert licenses[stalled.page("/slow")]["protocol"] == "unknown"
    assert licenses[quick.page("/quick")]["protocol"] == "cloudflare"


async def test_a_publisher_that_times_out_is_unknown(app_client, fake_tavily, serve):
    stalled = await serve(FakePublisher(stalled=True))
    fake_tavily.results = [result(stalled.page("/slow"))]
    client = await tavily_client(app_client, fake_tavily, discovery_timeout=0.05, discovery_budget=30)
    try:
        licenses = await asyncio.wait_for(licenses_for(client), timeout=3)
    finally:
        stalled.release()

    assert licenses[stalled.page("/slow")]["protocol"] == "unknown"


async def test_the_ssrf_guard_refuses_loopback_unless_allowed(app_client, fake_tavily, serve):
    site = await serve(FakePublisher(rsl=rsl_document("0.05")))
    fake_tavily.results = [
        result(site.page("/a")),
        result(site.page("/b").replace("127.0.0.1", "localhost")),
        result(site.page("/c").replace("127.0.0.1", "\uff11\uff12\uff17.\uff10.\uff10.\uff11")),  # full-width digits
        result(site.page("/d").replace("127.0.0.1", "[::ffff:127.0.0.1]")),
        result(site.page("/e").replace("127.0.0.1", "[::1]")),
    ]
    client = await tavily_client(app_client, fake_tavily, allow_private_fetch="false")

    licenses = await licenses_for(client)

    assert {license["protocol"] for license in licenses.values()} == {"unknown"}
    assert site.requests == []


async def test_429_then_200_succeeds(app_client, fake_tavily, serve):
    site = await serve(FakePublisher())
    fake_tavily.results = [result(site.page("/a"))]
    fake_tavily.statuses = [429]
    client = await tavily_client(app_client, fake_tavily)

    response = await search(client)

    assert response.status == 200
    assert fake_tavily.calls == 2


async def test_5xx_three_times_is_502_after_three_attempts(app_client, fake_tavily):
    fake_tavily.statuses = [500, 503, 500, 200]
    client = await tavily_client(app_client, fake_tavily)

    response = await search(client)

    assert response.status == 502
    assert (await response.json())["error"]["code"] == "upstream_error"
    assert fake_tavily.calls == 3


async def test_a_rejected_key_is_502_saying_so(app_client, fake_tavily):
    fake_tavily.statuses = [401]
    client = await tavily_client(app_client, fake_tavily)

    response = await search(client)

    assert response.status == 502
    assert "search provider rejected the API key" in (await response.json())["error"]["message"]
    assert fake_tavily.calls == 1


async def test_tavily_down_is_502(app_client, fake_tavily, closed_port):
    fake_tavily.url = f"http://127.0.0.1:{closed_port}"
    client = await tavily_client(app_client, fake_tavily)

    response = await search(client)

    assert response.status == 502


async def test_a_slow_tavily_is_504(app_client, fake_tavily):
    fake_tavily.latency = 2.0
    client = await tavily_client(app_client, fake_tavily, search_timeout=0.1)

    response = await search(client)

    assert response.status == 504
    assert (await response.json())["error"]["code"] == "upstream_timeout"


async def test_a_failed_search_is_not_cached(app_client, fake_tavily):
    fake_tavily.statuses = [401]
    client = await tavily_client(app_client, fake_tavily)

    assert (await search(client)).status == 502
    assert (await search(client)).status == 200
    assert fake_tavily.calls == 2


class FixedResolver(AbstractResolver):
    """A resolver whose answers a test chooses, standing in for DNS."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        return [{"hostname": host, "host": address, "port": port, "family": family, "proto": 0, "flags": 0}
                for address in self.answers[host]]

    async def close(self) -> None:
        pass


async def test_the_resolver_guard_refuses_names_that_point_inside():
    resolver = PublicOnlyResolver(FixedResolver({
        "rebinding.example.org": ["127.0.0.1"],
        "metadata.example.org": ["169.254.169.254"],
        "mixed.example.org": ["10.1.2.3", "93.184.215.14"],
    }))

    for name in ("rebinding.example.org", "metadata.example.org"):
        with pytest.raises(OSError, match="private or reserved"):
            await resolver.resolve(name, 80)
    assert [answer["host"] for answer in await resolver.resolve("mixed.example.org", 80)] == ["93.184.215.14"]


@pytest.mark.parametrize("header", ["USD 1e20", "USD 1e999999", "USD -1", "USD NaN", "0.01", "USD"])
async def test_an_absurd_crawler_price_is_ignored(app_client, fake_tavily, serve, header):
    site = await serve(FakePublisher(crawler_price=header))
    fake_tavily.results = [result(site.page("/p"))]
    client = await tavily_client(app_client, fake_tavily)

    license = (await licenses_for(client))[site.page("/p")]

    assert license["protocol"] == "free"


async def test_results_with_unusable_urls_are_skipped(app_client, fake_tavily, serve):
    site = await serve(FakePublisher())
    fake_tavily.results = [result("https://example.com:abc/x"), result("http://[::1/x"), result(site.page("/ok"))]
    client = await tavily_client(app_client, fake_tavily)

    response = await search(client)

    assert response.status == 200
    assert [source["url"] for source in (await response.json())["sources"]] == [site.page("/ok")]


async def test_concurrent_identical_searches_call_tavily_once(app_client, fake_tavily, serve):
    site = await serve(FakePublisher())
    fake_tavily.results = [result(site.page("/a"))]
    fake_tavily.latency = 0.1
    client = await tavily_client(app_client, fake_tavily)

    responses = await asyncio.gather(*(search(client) for _ in range(10)))

    assert {response.status for response in responses} == {200}
    assert fake_tavily.calls == 1
    assert site.requests.count(("GET", "/.well-known/rsl.xml")) == 1
