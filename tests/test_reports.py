"""Research reports: parallel sections under the cap, order, isolation, cache, jobs, downloads."""

from __future__ import annotations

import asyncio
import math
import re
import time

import orjson
import pytest

from tests.conftest import bearer
from tests.test_auth_local import forge

ALICE, BOB = bearer(forge(sub="alice")), bearer(forge(sub="bob"))
QUERY = "How did central banks respond to inflation after 2021?"
LATENCY = 0.2


def cite_what_you_are_given(body: dict) -> str:
    """The fake model's reply: a paragraph citing the numbers it was offered, plus one it was not."""
    prompt = body["messages"][-1]["content"]
    if "JSON object" in prompt:
        return orjson.dumps({"summary": "In short [1].", "conflicts": ["They differ [2]."],
                             "research_directions": ["Look further.", "Compare.", "Update."]}).decode()
    title = re.search(r'section titled "([^"]+)"', prompt).group(1)
    numbers = re.search(r"only the numbers ([\d, ]+):", prompt).group(1).replace(" ", "").split(",")
    return f"About {title}: " + " ".join(f"a claim [{n}]." for n in numbers) + " An invented one [99]."


async def model_client(app_client, fake_openai, **env):
    fake_openai.reply = cite_what_you_are_given
    return await app_client(llm_provider="openai", openai_base_url=fake_openai.url, retry_base_delay=0.001, **env)


def outline(count: int) -> list[dict[str, str]]:
    topics = ["Rate hikes", "Balance sheets", "Negative rates", "Yield curve control", "Forward guidance",
              "Inflation targets", "Digital currencies", "Gilt markets", "Wages", "Energy prices", "Housing",
              "Exchange rates", "Extra"]
    return [{"title": topic} for topic in topics[:count]]


async def create(client, headers=ALICE, **body):
    return await client.post("/api/reports", json={"query": QUERY, **body}, headers=headers)


async def test_sections_run_three_at_a_time_in_order(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.latency = LATENCY

    started = time.perf_counter()
    response = await create(client, outline=outline(7))
    elapsed = time.perf_counter() - started

    assert response.status == 200
    report = await response.json()
    assert fake_openai.max_in_flight == 3
    assert elapsed < (math.ceil(7 / 3) + 1) * LATENCY * 1.5
    assert [section["index"] for section in report["sections"]] == list(range(7))
    assert [section["title"] for section in report["sections"]] == [item["title"] for item in outline(7)]
    for section in report["sections"]:
        assert section["status"] == "ok"
        assert section["content"].startswith(f"About {section['title']}:")
    assert fake_openai.calls == 8  # seven sections and one synthesis


async def test_citations_are_numbered_once_and_invented_ones_dropped(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)

    report = await (await create(client, outline=outline(4))).json()

    contents = " ".join(section["content"] for section in report["sections"])
    used = sorted({int(n) for n in re.findall(r"\[(\d+)\]", contents + report["summary"])})
    assert "[99]" not in contents
    assert used == [citation["n"] for citation in report["citations"]] == list(range(1, len(used) + 1))
    ids = [citation["source_id"] for citation in report["citations"]]
    assert len(ids) == len(set(ids))
    assert report["total_cost_cents"] == sum(c["license"]["price_cents"] or 0 for c in report["citations"])
    assert report["research_directions"] == ["Look further.", "Compare.", "Update."]


async def test_a_failing_section_is_isolated(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.fail_when = 'section titled "Negative rates"'

    response = await create(client, outline=outline(5))

    assert response.status == 200
    report = await response.json()
    statuses = {section["title"]: section["status"] for section in report["sections"]}
    assert statuses.pop("Negative rates") == "error"
    assert set(statuses.values()) == {"ok"}
    assert report["status"] == "partial"
    failed = report["sections"][2]
    assert failed["error"] and failed["content"] == ""
    assert "could not be written" in report["markdown"]


async def test_every_section_failing_is_502(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.statuses = [500] * 20

    response = await create(client, outline=outline(2))

    assert response.status == 502
    assert "every section failed" in (await response.json())["error"]["message"]


async def test_a_repeated_report_is_cached_with_no_model_calls(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    first = await (await create(client, outline=outline(3))).json()
    calls = fake_openai.calls

    second = await (await create(client, outline=outline(3))).json()

    assert (first["cached"], second["cached"]) == (False, True)
    assert fake_openai.calls == calls
    assert second["sections"] == first["sections"]
    assert second["report_id"] != first["report_id"]


async def test_identical_concurrent_reports_are_generated_once(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.latency = 0.05

    one, two = await asyncio.gather(create(client, outline=outline(3)), create(client, BOB, outline=outline(3)))

    assert (one.status, two.status) == (200, 200)
    assert fake_openai.calls == 4
    assert (await one.json())["sections"] == (await two.json())["sections"]


async def test_another_source_assignment_is_another_report(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    found = await (await client.post("/api/search", json={"query": "central bank interest rates"},
                                     headers=ALICE)).json()
    ids = [source["id"] for source in found["sources"]]
    await create(client, outline=[{"title": "Rates", "source_ids": ids[:2]}])
    calls = fake_openai.calls

    again = await (await create(client, outline=[{"title": "Rates", "source_ids": ids[:2]}])).json()
    other = await (await create(client, outline=[{"title": "Rates", "source_ids": ids[1:3]}])).json()

    assert again["cached"] is True and other["cached"] is False
    assert fake_openai.calls == calls + 2


async def test_async_mode_answers_202_then_the_report_by_id(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.latency = 0.1

    accepted = await client.post("/api/reports", json={"query": QUERY, "outline": outline(4)},
                                 headers={**ALICE, "Prefer": "respond-async"})
    body = await accepted.json()
    running = await (await client.get(body["status_url"], headers=ALICE)).json()
    for _ in range(100):
        finished = await (await client.get(body["status_url"], headers=ALICE)).json()
        if finished["status"] != "running":
            break
        await asyncio.sleep(0.05)

    assert accepted.status == 202
    assert body["status_url"] == f"/api/reports/{body['report_id']}"
    assert running["status"] == "running" and running["sections_total"] == 4
    assert 0 <= running["sections_done"] < 4
    assert finished["status"] == "complete" and len(finished["sections"]) == 4
    assert (await client.get(body["status_url"], headers=BOB)).status == 404


async def test_the_third_running_report_of_a_user_is_429(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.latency = 0.5
    async_headers = {**ALICE, "Prefer": "respond-async"}

    first = await client.post("/api/reports", json={"query": QUERY, "outline": outline(1)}, headers=async_headers)
    second = await client.post("/api/reports", json={"query": QUERY, "outline": outline(2)}, headers=async_headers)
    third = await client.post("/api/reports", json={"query": QUERY, "outline": outline(3)}, headers=async_headers)
    bobs = await client.post("/api/reports", json={"query": QUERY, "outline": outline(3)},
                             headers={**BOB, "Prefer": "respond-async"})

    assert (first.status, second.status, third.status, bobs.status) == (202, 202, 429, 202)
    assert "Retry-After" in third.headers


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"query": ""}, 400, "query"),
        ({"query": "ab"}, 400, "query"),
        ({"query": "x" * 501}, 400, "query"),
        ({"query": QUERY, "outline": []}, 400, "outline"),
        ({"query": QUERY, "outline": outline(13)}, 400, "outline"),
        ({"query": QUERY, "outline": [{"title": "x" * 201}]}, 400, "title"),
        ({"query": QUERY, "outline": [{"title": ""}]}, 400, "title"),
        ({"query": QUERY, "outline": ["not an object"]}, 400, "outline[0]"),
        ({"query": QUERY, "source_ids": "src_1"}, 400, "source_ids"),
        ({"query": QUERY, "source_ids": ["src_unknown00000"]}, 404, "src_unknown00000"),
        ({"query": QUERY, "outline": [{"title": "A", "source_ids": ["src_gone"]}]}, 404, "src_gone"),
    ],
)
async def test_bad_input(app_client, body, status, named):
    client = await app_client()

    response = await client.post("/api/reports", json=body, headers=ALICE)

    assert response.status == status
    assert named in (await response.json())["error"]["message"]


async def test_the_markdown_download_ends_in_matching_references(app_client):
    client = await app_client()
    report = await (await create(client)).json()

    response = await client.get(f"/api/reports/{report['report_id']}/markdown", headers=ALICE)

    assert response.status == 200
    assert response.content_type == "text/markdown"
    assert f'filename="{report["report_id"]}.md"' in response.headers["Content-Disposition"]
    markdown = await response.text()
    references = markdown.split("## References\n\n", 1)[1].strip().splitlines()
    listed = [int(line.split(".", 1)[0]) for line in references]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", markdown.split("## References")[0])}
    assert listed == sorted(cited) == [citation["n"] for citation in report["citations"]]
    assert all(citation["url"] in markdown for citation in report["citations"])


async def test_the_offline_writer_writes_a_cited_report_from_the_corpus(app_client):
    client = await app_client()

    report = await (await create(client, query="Why did measles come back, and what do vaccination rates show?")).json()

    assert report["status"] == "complete"
    assert 3 <= len(report["sections"]) <= 5
    assert any("measles" in section["content"].lower() for section in report["sections"])
    assert report["citations"] and report["summary"]
    assert 3 <= len(report["research_directions"]) <= 5


async def test_report_progress_over_the_websocket_and_it_outlives_the_socket(app_client, fake_openai):
    client = await model_client(app_client, fake_openai)
    fake_openai.latency = 0.05
    socket = await client.ws_connect("/ws/chat", headers=ALICE)

    await socket.send_json({"type": "report", "query": QUERY, "outline": outline(4)})
    frames = []
    while not frames or frames[-1]["type"] not in ("report.done", "error"):
        frames.append(await asyncio.wait_for(socket.receive_json(), 5))

    assert frames[0]["type"] == "report.started" and frames[0]["sections_total"] == 4
    assert sorted(frame["index"] for frame in frames[1:-1]) == [0, 1, 2, 3]
    assert frames[-1]["report"]["status"] == "complete"

    # A second report: the socket closes right after it starts; the report still finishes.
    fake_openai.latency = 0.1
    await socket.send_json({"type": "report", "query": QUERY, "outline": outline(5)})
    report_id = (await socket.receive_json())["report_id"]
    await socket.close()
    for _ in range(100):
        job = await (await client.get(f"/api/reports/{report_id}", headers=ALICE)).json()
        if job["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "complete" and len(job["sections"]) == 5
