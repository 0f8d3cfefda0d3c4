"""Every failure answers JSON with the right status, and the request id travels along."""

from __future__ import annotations

import pytest


async def error_of(response) -> dict[str, str]:
    assert response.content_type == "application/json"
    return (await response.json())["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body: malformed JSON"),
        (b"", "body: a JSON object is required"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b'"text"', "body: must be a JSON object"),
        (b"\xff\xfe", "body: malformed JSON"),
    ],
)
async def test_malformed_bodies_are_json_400(app_client, body, message):
    client = await app_client()

    response = await client.post("/api/auth/login", data=body, headers={"Content-Type": "application/json"})

    assert response.status == 400
    assert await error_of(response) == {"code": "invalid_input", "message": message}


async def test_oversize_body_is_json_413(app_client):
    client = await app_client(max_body_bytes=2048)

    response = await client.post("/api/auth/login", data=b"{" + b" " * 4096 + b"}")

    assert response.status == 413
    assert (await error_of(response))["code"] == "payload_too_large"


async def test_unknown_route_is_json_404(app_client):
    client = await app_client()

    response = await client.get("/api/nothing-here")

    assert response.status == 404
    assert (await error_of(response))["code"] == "not_found"


async def test_wrong_method_is_json_405_with_allow(app_client):
    client = await app_client()

    response = await client.delete("/api/me")

    assert response.status == 405
    assert response.headers["Allow"] == "GET,HEAD"
    assert (await error_of(response))["code"] == "method_not_allowed"


async def test_request_id_is_generated_or_kept(app_client):
    client = await app_client()

    generated = await client.get("/api/health")
    kept = await client.get("/api/health", headers={"X-Request-ID": "trace-42"})
    unsafe = await client.get("/api/health", headers={"X-Request-ID": "bad id\twith spaces"})

    assert len(generated.headers["X-Request-ID"]) == 16
    assert kept.headers["X-Request-ID"] == "trace-42"
    assert unsafe.headers["X-Request-ID"] != "bad id\twith spaces"


async def test_errors_carry_the_request_id_too(app_client):
    client = await app_client()

    response = await client.get("/api/me", headers={"X-Request-ID": "abc"})

    assert response.status == 401
    assert response.headers["X-Request-ID"] == "abc"


async def test_http_metrics_label_routes_not_paths(app_client):
    client = await app_client()
    for n in range(3):
        await client.get(f"/api/unknown-{n}")
    await client.get("/api/health")

    text = await (await client.get("/metrics")).text()

    assert 'http_requests_total{method="GET",route="/api/health",status="200"} 1.0' in text
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 3.0' in text
    assert "unknown-1" not in text
    assert "process_resident_memory_bytes" in text
