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


async def test_dev_server_serves_and_prints_how_to_get_a_token():
    env = {name: value for name, value in os.environ.items() if name != "AUTH_JWT_SECRET"}
    env.update(PORT="0", ACCESS_LOG="true", LOG_LEVEL="INFO")
    process = subprocess.Popen(
        [sys.executable, "run.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        hints = [process.stdout.readline() for _ in range(4)]
        assert "/api/auth/signup" in hints[1] and "/api/auth/login" in hints[2]

        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/api/health", headers={"X-Request-ID": "run-test-1"}) as response:
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
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
