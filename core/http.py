"""Calling an upstream over a shared ClientSession, with bounded time and size."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from .errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable

__all__ = ["UpstreamResponse", "call_upstream"]

# No upstream we speak to answers with more than this; anything larger is a fault.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    service: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise UpstreamBadResponse(self.service, f"HTTP {self.status} with a body that is not JSON") from None


async def call_upstream(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    **kwargs: Any,
) -> UpstreamResponse:
    """Send one request; connection faults and timeouts become domain errors."""
    try:
        async with session.request(
            method,
            url,
            timeout=aiohttp.ClientTimeout(total=timeout),
            trace_request_ctx={"upstream": service},
            **kwargs,
        ) as resp:
            body = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise UpstreamBadResponse(service, "response body too large")
            return UpstreamResponse(service, resp.status, resp.headers, bytes(body))
    except asyncio.TimeoutError:
        raise UpstreamTimeout(service, f"no answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(service, f"unreachable ({type(exc).__name__})") from None
