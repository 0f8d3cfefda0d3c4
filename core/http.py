"""Calling an upstream over a shared ClientSession, with bounded time and size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from .errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout

__all__ = ["OpenStream", "UpstreamResponse", "call_upstream", "open_stream", "parse_retry_after"]

# No upstream we speak to answers with more than this; anything larger is a fault.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# A Retry-After past this is treated as this: nobody should be told to wait for days.
MAX_RETRY_AFTER = 3600.0


def parse_retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header, clamped to [0, MAX_RETRY_AFTER]; None if unusable.

    The HTTP-date form is rare from APIs and reads as None.
    """
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds:  # nan
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


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


@dataclass(frozen=True, slots=True)
class OpenStream:
    """A 200 response whose body is still arriving; the caller reads it, then closes it."""

    service: str
    status: int
    headers: CIMultiDictProxy[str]
    response: aiohttp.ClientResponse

    def close(self) -> None:
        self.response.close()


async def open_stream(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    total_timeout: float,
    **kwargs: Any,
) -> OpenStream | UpstreamResponse:
    """Send one request for a streamed answer.

    A 200 comes back open, as an OpenStream; any other status comes back fully read
    (and its connection released), as an UpstreamResponse, so it can be retried.
    `timeout` bounds each silence (the wait for headers, or between chunks), and
    `total_timeout` the whole stream, so a long answer that keeps flowing is not cut.
    """
    with _faults(service, timeout):
        response = await session.request(
            method,
            url,
            timeout=aiohttp.ClientTimeout(total=total_timeout, sock_connect=timeout, sock_read=timeout),
            trace_request_ctx={"upstream": service},
            allow_redirects=False,
            **kwargs,
        )
    if response.status == 200:
        return OpenStream(service, response.status, response.headers, response)
    try:
        with _faults(service, timeout):
            body = await _read_bounded(response, service)
    finally:
        response.release()
    return UpstreamResponse(service, response.status, response.headers, body)


async def _read_bounded(response: aiohttp.ClientResponse, service: str) -> bytes:
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise UpstreamBadResponse(service, "response body too large")
    return bytes(body)


async def call_upstream(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    **kwargs: Any,
) -> UpstreamResponse:
    """Send one request; connection faults and timeouts become domain errors.

    Redirects are not followed: an API that redirects is misbehaving, and a 200 at
    the end of a redirect (a login page, a CDN error page) must not pass for its answer.
    """
    with _faults(service, timeout):
        async with session.request(
            method,
            url,
            timeout=aiohttp.ClientTimeout(total=timeout),
            trace_request_ctx={"upstream": service},
            allow_redirects=False,
            **kwargs,
        ) as resp:
            return UpstreamResponse(service, resp.status, resp.headers, await _read_bounded(resp, service))


@contextmanager
def _faults(service: str, timeout: float) -> Iterator[None]:
    """Transport failures as domain errors: a timeout, or an upstream we cannot reach."""
    try:
        yield
    except asyncio.TimeoutError:
        raise UpstreamTimeout(service, f"no answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(service, f"unreachable ({type(exc).__name__})") from None
