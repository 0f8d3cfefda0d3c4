"""The HTTP plumbing shared by the remote model providers: retries, errors, streams."""

from __future__ import annotations

from functools import partial
from typing import Any

import aiohttp

from ..errors import UpstreamBadResponse, UpstreamError
from ..http import OpenStream, UpstreamResponse, call_upstream, open_stream
from ..retry import RetryPolicy, call_with_retries

__all__ = ["RemoteModel"]


class RemoteModel:
    """POSTs JSON to `base_url` + `path`; 429, 5xx and 529 are retried per the policy.

    A provider names its endpoint's path and how its key is sent.
    """

    name = "remote"
    path = ""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout: float,
        stream_timeout: float,
        retry: RetryPolicy,
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + self.path
        self._headers = self.auth_headers(api_key)
        self.model = model
        self._timeout = timeout
        self._stream_timeout = stream_timeout
        self._retry = retry

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        raise NotImplementedError

    async def _post(self, body: dict[str, Any]) -> Any:
        send = partial(
            call_upstream, self._session, "POST", self._url, service=self.name, timeout=self._timeout,
            json=body, headers=self._headers,
        )
        response = await call_with_retries(send, self._retry)
        if response.status != 200:
            raise self._failure(response)
        return response.json()

    async def _open(self, body: dict[str, Any]) -> OpenStream:
        send = partial(
            open_stream, self._session, "POST", self._url, service=self.name, timeout=self._timeout,
            total_timeout=self._stream_timeout, json=body, headers=self._headers,
        )
        answer = await call_with_retries(send, self._retry)
        if isinstance(answer, UpstreamResponse):
            raise self._failure(answer)
        return answer

    def _failure(self, response: UpstreamResponse) -> UpstreamError:
        detail = self._error_message(response)
        if response.status in (401, 403):
            return UpstreamError(self.name, f"the model provider rejected the API key ({detail})")
        return UpstreamError(self.name, f"HTTP {response.status}: {detail}")

    def _error_message(self, response: UpstreamResponse) -> str:
        """The provider's own words, where its error body has them."""
        try:
            data = response.json()
        except UpstreamBadResponse:
            return "no details"
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        return str(message)[:300] if message else "no details"


def require_text(service: str, text: str) -> str:
    if not text.strip():
        raise UpstreamBadResponse(service, "the model returned an empty reply")
    return text
