"""Chat over HTTP: bounded history, the offline writer, providers' failures, rate limits."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import bearer, metric
from tests.test_auth_local import forge

ALICE, BOB = bearer(forge(sub="alice")), bearer(forge(sub="bob"))


async def say(client, text, headers=ALICE, **extra):
    return await client.post("/api/chat", json={"message": text, **extra}, headers=headers)


async def history(client, headers=ALICE):
    return await (await client.get("/api/chat/history", headers=headers)).json()


async def test_the_offline_writer_cites_relevant_corpus_documents(app_client):
    client = await app_client()

    response = await say(client, "How did central banks raise interest rates to fight inflation?")

    assert response.status == 200
    body = await response.json()
    assert "[1]" in body["response"]
    sources = body["response"].split("Sources:\n", 1)[1]
    assert "Federal Reserve" in sources or "Bank of Japan" in sources or "ECB" in sources
    assert "?" in body["response"].split("Sources:")[0]  # it asks a scoping question
    assert body["mode"] == "conversational" and body["conversation_length"] == 2
    assert "sources" not in body


async def test_history_keeps_both_sides_with_timestamps_and_can_be_cleared(app_client):
    client = await app_client()
    await say(client, "Tell me about measles vaccination")

    kept = await history(client)
    cleared = await (await client.delete("/api/chat/history", headers=ALICE)).json()

    assert kept["length"] == 2
    assert [m["role"] for m in kept["messages"]] == ["user", "assistant"]
    assert kept["messages"][0]["content"] == "Tell me about measles vaccination"
    assert all(isinstance(m["timestamp"], float) for m in kept["messages"])
    assert cleared == {"messages": [], "length": 0}
    assert (await history(client))["length"] == 0


async def test_users_do_not_see_each_others_history(app_client):
    client = await app_client()
    await say(client, "alice's question about carbon prices")

    assert (await history(client, BOB))["length"] == 0


async def test_sixty_messages_keep_the_newest_fifty(app_client):
    client = await app_client(chat_rate_limit=1000)
    for n in range(30):
        assert (await say(client, f"question number {n} about flood defences")).status == 200

    kept = (await history(client))["messages"]

    assert len(kept) == 50
    assert kept[0]["content"] == "question number 5 about flood defences"
    assert await metric(client, "conversation_messages") == 50


async def test_past_max_users_the_least_recently_active_go(app_client):
    client = await app_client(conversation_max_users=3)
    users = [bearer(forge(sub=f"user{n}")) for n in range(5)]
    for headers in users:
        await say(client, "a question about heat plans", headers)

    lengths = [(await history(client, headers))["length"] for headers in users]

    assert lengths == [0, 0, 2, 2, 2]
    assert await metric(client, "conversation_users") == 3
    assert await metric(client, "conversation_users_evicted_total") == 2


async def test_idle_users_are_swept(app_client):
    client = await app_client(conversation_idle_ttl=0.1, cache_sweep_interval=0.02)
    await say(client, "a question about mangroves")
    assert await metric(client, "conversation_users") == 1

    await asyncio.sleep(0.25)

    assert await metric(client, "conversation_users") == 0
    assert await metric(client, "conversation_users_expired_total") == 1


async def test_research_mode_returns_sources_for_the_conversation(app_client):
    client = await app_client()
    await say(client, "I am researching the EU AI Act")

    response = await say(client, "especially general-purpose AI model obligations", mode="research")

    body = await response.json()
    assert body["mode"] == "research"
    assert "general-purpose" in body["source_query"]
    assert body["sources"] and "AI" in body["sources"][0]["title"]
    assert body["suggest_research"] is True


async def test_suggest_research_turns_on_once_the_question_takes_shape(app_client):
    client = await app_client()

    vague = await (await say(client, "hello")).json()
    shaped = await (await say(client, "effects of carbon pricing on EU industrial emissions since 2015")).json()

    assert (vague["suggest_research"], vague["source_query"]) == (False, None)
    assert shaped["suggest_research"] is True
    assert "carbon pricing" in shaped["source_query"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": 5}, "message"),
        ({"message": "x" * 8001}, "message"),
        ({"message": "ok", "mode": "poetry"}, "mode"),
    ],
)
async def test_bad_input_is_400_naming_the_field(app_client, body, field):
    client = await app_client()

    response = await client.post("/api/chat", json=body, headers=ALICE)

    assert response.status == 400
    assert (await response.json())["error"]["message"].startswith(f"{field}:")


async def test_the_rate_limit_answers_429_with_retry_after(app_client):
    client = await app_client(chat_rate_limit=3)

    statuses = [(await say(client, f"question {n} on inflation")).status for n in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = await say(client, "one more")
    assert int(limited.headers["Retry-After"]) >= 1
    assert (await say(client, "bob is not limited", BOB)).status == 200


async def llm_client(app_client, fake, provider: str, **env):
    keys = {"anthropic_api_key": "sk-ant-test"} if provider == "anthropic" else {}
    base = {f"{provider}_base_url": fake.url}
    return await app_client(llm_provider=provider, retry_base_delay=0.001, **keys, **base, **env)


async def test_an_openai_compatible_server_answers_chat(app_client, fake_openai):
    client = await llm_client(app_client, fake_openai, "openai", llm_model="local-llama")
    fake_openai.reply = "Which years should the research cover?"

    body = await (await say(client, "energy subsidies")).json()

    assert body["response"] == "Which years should the research cover?"
    request = fake_openai.requests[0]
    assert request["model"] == "local-llama"
    assert request["messages"][0]["role"] == "system"
    assert "research-guidance assistant" in request["messages"][0]["content"]
    assert request["messages"][1:] == [{"role": "user", "content": "energy subsidies"}]


async def test_a_failing_provider_is_502_and_keeps_the_question_not_the_reply(app_client, fake_anthropic):
    client = await llm_client(app_client, fake_anthropic, "anthropic")
    fake_anthropic.statuses = [500, 500, 500]

    response = await say(client, "what about gilt markets in 2022?")

    assert response.status == 502
    assert (await response.json())["error"]["code"] == "upstream_error"
    kept = await history(client)
    assert [m["role"] for m in kept["messages"]] == ["user"]

    # The next turn sends alternating roles although the failed turn left two user messages.
    ok = await say(client, "and the Bank of England's response")
    assert ok.status == 200
    roles = [m["role"] for m in fake_anthropic.requests[-1]["messages"]]
    assert roles == ["user"]


async def test_a_slow_provider_is_504(app_client, fake_openai):
    client = await llm_client(app_client, fake_openai, "openai", llm_timeout=0.1)
    fake_openai.latency = 1.0

    response = await say(client, "question")

    assert response.status == 504


async def test_history_sent_to_the_model_is_bounded(app_client, fake_anthropic):
    client = await llm_client(app_client, fake_anthropic, "anthropic", chat_history_messages=6,
                              chat_history_chars=8000, chat_rate_limit=1000)
    for n in range(6):
        await say(client, f"message {n} " + "x" * 3000)

    sent = fake_anthropic.requests[-1]["messages"]

    assert len(sent) <= 6
    assert sum(len(m["content"]) for m in sent) <= 8000
    assert sent[0]["role"] == "user" and sent[-1]["content"].startswith("message 5")
