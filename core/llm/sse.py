"""Server-sent events from a streaming HTTP response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from ..errors import UpstreamBadResponse, UpstreamTimeout
from ..http import OpenStream

__all__ = ["SSEEvent", "sse_events"]

# A reply longer than this is a runaway stream, not an answer.
MAX_STREAM_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str


async def sse_events(stream: OpenStream) -> AsyncIterator[SSEEvent]:
    """Each event as it completes; transport faults become domain errors. Closes the stream."""
    service = stream.service
    event, data, received = "message", [], 0
    try:
        async for raw in stream.response.content:
            received += len(raw)
            if received > MAX_STREAM_BYTES:
                raise UpstreamBadResponse(service, "stream too long")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if data:
                    yield SSEEvent(event, "\n".join(data))
                event, data = "message", []
            elif not line.startswith(":"):  # a leading colon marks a comment (keep-alive)
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    event = value
                elif field == "data":
                    data.append(value)
        if data:
            yield SSEEvent(event, "\n".join(data))
    except asyncio.TimeoutError:
        raise UpstreamTimeout(service, "the stream stalled past the timeout") from None
    except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a line over aiohttp's limit
        raise UpstreamBadResponse(service, f"the stream broke off ({type(exc).__name__})") from None
    finally:
        stream.close()
