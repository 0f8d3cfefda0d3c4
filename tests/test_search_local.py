"""POST /api/search and GET /api/sources/{id} on the embedded corpus provider."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from server.settings import SHIPPED_CORPUS
from tests.conftest import bearer, metric
from tests.test_auth_local import forge

AUTH = bearer(forge())
SOURCE_FIELDS = {
    "id", "title", "url", "domain", "snippet", "author", "published_date", "relevance_score", "source_type", "license",
}


async def search(client, **body):
    return await client.post("/api/search", json=body, headers=AUTH)


async def test_search_needs_a_token(app_client):
    client = await app_client()

    response = await client.post("/api/search", json={"query": "carbon price"})

    assert response.status == 401


async def test_results_have_the_source_shape_and_their_prices(app_client):
    client = await app_client()

    response = await search(client, query="carbon price in the emissions trading system", max_results=5)

    assert response.status == 200
    body = await response.json()
    assert body["query"] == "carbon price in the emissions trading system"
    assert body["cached"] is False
    assert 1 <= len(body["sources"]) <= 5
    for source in body["sources"]:
        assert set(source) == SOURCE_FIELDS
        assert source["id"].startswith("src_")
        assert source["domain"].endswith(".example.org")
        assert source["source_type"] == "corpus"
        assert set(source["license"]) == {"protocol", "price_cents", "currency", "publisher", "requires_attribution"}
        assert source["license"]["protocol"] in {"rsl", "tollbit", "cloudflare", "free"}
    prices = [source["license"]["price_cents"] for source in body["sources"]]
    assert body["total_cost_cents"] == sum(prices)
    summary = body["licensing_summary"]
    assert sum(entry["count"] for entry in summary.values()) == len(body["sources"])
    assert sum(entry["total_cents"] for entry in summary.values()) == body["total_cost_cents"]
    scores = [source["relevance_score"] for source in body["sources"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1.0


@pytest.mark.parametrize(
    ("query", "title_words"),
    [
        ("Bank of Japan ends negative interest rates and yield curve control", "Bank of Japan"),
        ("EU AI Act risk categories", "Risk Categories"),
        ("Germany nuclear phase-out reactors shut down", "Nuclear Phase-Out"),
        ("measles outbreaks and falling vaccination coverage", "Measles"),
        ("sponge city stormwater flooding China", "Sponge City"),
        ("robots.txt Robots Exclusion Protocol standard", "RFC 9309"),
    ],
)
async def test_the_document_about_the_topic_ranks_first(app_client, query, title_words):
    client = await app_client()

    sources = (await (await search(client, query=query)).json())["sources"]

    assert title_words.lower() in sources[0]["title"].lower()
    assert sources[0]["relevance_score"] > sources[1]["relevance_score"]


async def test_a_repeated_search_is_served_from_the_cache(app_client):
    client = await app_client()

    first = await (await search(client, query="heat action plans")).json()
    second = await (await search(client, query="  Heat   ACTION plans ")).json()

    assert (first["cached"], second["cached"]) == (False, True)
    assert second["sources"] == first["sources"]
    assert await metric(client, "cache_hits_total", cache="search") == 1


async def test_searches_are_rate_limited_per_user(app_client):
    client = await app_client(search_rate_limit=2)

    statuses = [(await search(client, query=f"query {n}")).status for n in range(3)]

    assert statuses == [200, 200, 429]


async def test_search_results_expire_by_the_sweeper(app_client):
    client = await app_client(search_cache_ttl=0.1, cache_sweep_interval=0.02)
    await search(client, query="mangrove restoration")
    assert await metric(client, "cache_entries", cache="search") == 1

    await asyncio.sleep(0.25)

    assert await metric(client, "cache_entries", cache="search") == 0
    again = await (await search(client, query="mangrove restoration")).json()
    assert again["cached"] is False


async def test_domain_filters(app_client):
    client = await app_client()

    only = await (await search(client, query="policy", include_domains=["lantern-health.example.org"])).json()
    without = await (await search(client, query="policy", max_results=20, exclude_domains=["example.org"])).json()

    assert only["sources"] and {s["domain"] for s in only["sources"]} == {"lantern-health.example.org"}
    assert without["sources"] == []


async def test_a_source_seen_in_a_search_can_be_fetched_by_id(app_client):
    client = await app_client()
    found = (await (await search(client, query="quantitative tightening balance sheet")).json())["sources"][0]

    response = await client.get(f"/api/sources/{found['id']}", headers=AUTH)
    unknown = await client.get("/api/sources/src_0000000000", headers=AUTH)

    assert response.status == 200
    assert await response.json() == found
    assert unknown.status == 404
    assert (await unknown.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "x" * 401}, "query"),
        ({"query": 42}, "query"),
        ({"query": "ok", "max_results": 0}, "max_results"),
        ({"query": "ok", "max_results": 21}, "max_results"),
        ({"query": "ok", "max_results": "x"}, "max_results"),
        ({"query": "ok", "max_results": True}, "max_results"),
        ({"query": "ok", "max_results": 2.5}, "max_results"),
        ({"query": "ok", "include_domains": "example.org"}, "include_domains"),
        ({"query": "ok", "include_domains": [1]}, "include_domains"),
        ({"query": "ok", "exclude_domains": ["a b"]}, "exclude_domains"),
    ],
)
async def test_bad_input_is_400_naming_the_field(app_client, body, field):
    client = await app_client()

    response = await search(client, **body)

    assert response.status == 400
    assert (await response.json())["error"]["message"].startswith(f"{field}:")


async def test_unknown_fields_are_ignored(app_client):
    client = await app_client()

    response = await search(client, query="inflation targeting", colour="blue")

    assert response.status == 200


async def test_a_query_of_400_characters_after_trimming_is_accepted(app_client):
    client = await app_client()

    response = await search(client, query="  " + "inflation " * 39 + "inflation ")

    assert response.status == 200


async def test_a_malformed_corpus_file_is_skipped_with_a_warning(app_client, tmp_path, caplog):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shipped = sorted(Path(SHIPPED_CORPUS).glob("*.md"))[:3]
    for path in shipped:
        shutil.copy(path, corpus / path.name)
    (corpus / "broken.md").write_text("no front matter at all\n")
    (corpus / "bad-price.md").write_text(shipped[0].read_text().replace("price_cents:", "price_cents: lots #"))

    with caplog.at_level(logging.WARNING):
        client = await app_client(corpus_dir=corpus)

    assert "broken.md" in caplog.text and "bad-price.md" in caplog.text
    response = await search(client, query="policy", max_results=20)
    assert response.status == 200
    assert len((await response.json())["sources"]) <= 3


def test_the_shipped_corpus_is_what_the_readme_promises():
    from core.search import load_corpus

    documents = load_corpus(Path(SHIPPED_CORPUS))

    assert len(documents) >= 40
    assert len({document.topic for document in documents}) >= 5
    assert all(document.domain.endswith(".example.org") for document in documents)
    assert all(200 <= len(document.body.split()) <= 600 for document in documents)
