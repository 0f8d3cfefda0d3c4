"""Start the server: settings from the environment, defaults that need no network."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from aiohttp import web

from server import Settings, SettingsError, create_app
from server.request_id import RequestIdAccessLogger


def banner(settings: Settings, url: str) -> str:
    # Only the scheme: a Redis URL may hold a password.
    cache = settings.cache_url.partition(":")[0]
    lines = [f"micropaymentcrawler listening on {url}  (auth: {settings.auth_mode}, cache: {cache})"]
    if settings.auth_mode == "local" and settings.auth_jwt_secret is None:
        lines += [
            "Get a token (local accounts live in memory until the server stops):",
            f"  curl -s -X POST {url}/api/auth/signup -H 'Content-Type: application/json' "
            """-d '{"email": "you@example.org", "password": "correct horse battery"}'""",
            f"  curl -s -X POST {url}/api/auth/login -H 'Content-Type: application/json' "
            """-d '{"email": "you@example.org", "password": "correct horse battery"}'""",
            f"  curl -s {url}/api/me -H 'Authorization: Bearer <access_token>'",
        ]
    return "\n".join(lines)


async def serve(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then shut down in order: websockets closed, requests
    finished, resources released. The signal only sets an event, so nothing is cancelled
    from outside mid-request."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        create_app(settings),
        shutdown_timeout=settings.shutdown_timeout,
        access_log_class=RequestIdAccessLogger,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port, backlog=settings.listen_backlog).start()
        host, port = runner.addresses[0][:2]
        print(banner(settings, f"http://{host}:{port}"), flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> int:
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
