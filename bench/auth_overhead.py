"""b. Auth overhead: an authenticated, cached request's throughput against /api/health's."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time

import aiohttp

from .harness import Size, bearer, mint_token, service, table

GOAL = 0.85


async def run(size: Size) -> str:
    seconds, rounds = size.pick((5, 3), (2, 2), (0.3, 1))
    token = mint_token("bench-auth")
    wrk = shutil.which("wrk")
    async with service() as svc:
        async with aiohttp.ClientSession() as session:
            # Validate once, so every measured request is a cache hit.
            async with session.get(f"{svc.url}/api/chat/history", headers=bearer(token)) as response:
                assert response.status == 200
        health, history = [], []
        for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
            health.append(await _throughput(wrk, f"{svc.url}/api/health", None, seconds))
            history.append(await _throughput(wrk, f"{svc.url}/api/chat/history", token, seconds))
    best_health, best_history = max(health), max(history)
    ratio = best_history / best_health
    tool = "wrk -t1 -c50" if wrk else "an aiohttp client, 50 connections (install wrk for a truer figure)"
    rows = [
        ["GET /api/health (no auth)", f"{best_health:,.0f}", ""],
        ["GET /api/chat/history (bearer token, cached)", f"{best_history:,.0f}", ""],
        ["ratio", f"**{ratio:.2f}**", f"≥ {GOAL} — {'met' if ratio >= GOAL else 'missed'}"],
    ]
    return (
        f"### b. Auth overhead ({tool}, {seconds:g} s a run, best of {rounds} interleaved runs)\n\n"
        + table(["", "requests/s", "goal"], rows)
        + "\n\nBoth routes run on the same server in the same run, through the same middlewares (request id, "
        "metrics, errors); the difference is the token check (a SHA-256 and a cache hit) and the history lookup.\n"
    )


async def _throughput(wrk: str | None, url: str, token: str | None, seconds: float) -> float:
    if wrk:
        command = [wrk, "-t1", "-c50", f"-d{max(1, round(seconds))}s", url]
        if token:
            command[1:1] = ["-H", f"Authorization: Bearer {token}"]
        output = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output.stdout).group(1))  # type: ignore[union-attr]
    headers = bearer(token) if token else {}
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(50)))
        return done / (time.perf_counter() - started)
