"""run.py starts a working dev server on the embedded defaults and stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def start_server(**env: str) -> tuple[subprocess.Popen[str], str]:
    environ = {name: value for name, value in os.environ.items() if name != "AUTH_JWT_SECRET"}
    environ.update(PORT="0", **env)
    process = subprocess.Popen(
        [sys.executable, "run.py"], cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", first)
    if match is None:
        process.kill()
        raise AssertionError(f"no URL in {first!r}: {process.stderr.read()}")
    return process, match.group(0)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    process.stdout.close()
    process.stderr.close()


async def test_dev_server_serves_and_prints_how_to_get_a_token():
    process, url = start_server(ACCESS_LOG="true", LOG_LEVEL="INFO")
    try:
        hints = [process.stdout.readline() for _ in range(4)]
        assert "/api/auth/signup" in hints[1] and "/api/auth/login" in hints[2]

        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/health?token=leak-me", headers={"X-Request-ID": "run-test-1"}) as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            credentials = {"email": "you@example.org", "password": "correct horse battery"}
            async with session.post(f"{url}/api/auth/signup", json=credentials) as response:
                token = (await response.json())["access_token"]
            async with session.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 200

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        log = process.stderr.read()
        assert "tokens will not survive a restart" in log
        assert re.search(r'"GET /api/health" 200 \d+ [\d.]+ms rid=run-test-1', log)
        assert "leak-me" not in log
    finally:
        stop(process)


async def test_shutdown_closes_open_sockets_at_once():
    # With SHUTDOWN_TIMEOUT=30 a server that waited for open sockets would miss the 5 s below.
    process, url = start_server(ACCESS_LOG="false", SHUTDOWN_TIMEOUT="30")
    try:
        async with aiohttp.ClientSession() as session:
            credentials = {"email": "ws@example.org", "password": "correct horse battery"}
            async with session.post(f"{url}/api/auth/signup", json=credentials) as response:
                token = (await response.json())["access_token"]
            # One socket that never sends its auth frame: it must not hold up shutdown either.
            sockets = [await session.ws_connect(f"{url}/ws/chat")]
            sockets += [await session.ws_connect(f"{url}/ws/chat?token={token}") for _ in range(3)]
            for socket in sockets[1:]:
                await socket.send_json({"type": "ping"})
                assert await socket.receive_json() == {"type": "pong"}

            process.send_signal(signal.SIGTERM)
            for socket in sockets:
                await socket.receive(timeout=5)
            assert process.wait(timeout=5) == 0

        assert {socket.close_code for socket in sockets} == {aiohttp.WSCloseCode.GOING_AWAY}
    finally:
        stop(process)
