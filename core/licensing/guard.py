"""Keeping fetches of URLs we did not choose away from private networks."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

__all__ = ["PublicOnlyResolver", "is_public_address", "url_host_allowed"]


# IPv6 ranges that carry an IPv4 address in their last 32 bits: IPv4-compatible and NAT64.
_EMBEDDING_V4 = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))


def is_public_address(host: str) -> bool:
    """True only for a global unicast address, looking through IPv6 forms that wrap IPv4."""
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and any(address in network for network in _EMBEDDING_V4):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return address.is_global and not address.is_multicast


def url_host_allowed(url: str) -> bool:
    """False for a URL whose host is an IP literal outside the public internet, or localhost.

    The host is read as aiohttp will connect to it (yarl's normalized form: full-width
    digits become ASCII ones). aiohttp connects to an IP literal without asking the
    resolver, so literals are checked here; names are left to PublicOnlyResolver.
    """
    try:
        host = URL(url).host or ""
    except ValueError:
        return False
    try:
        return is_public_address(host.strip("[]"))
    except ValueError:
        return host.rstrip(".").lower() not in ("localhost", "localhost.localdomain") and not host.endswith(".localhost")


class PublicOnlyResolver(AbstractResolver):
    """Answers only public addresses, so a name that points inside our network fails.

    The check sits in the resolver, at connect time, so a name that changes its
    answer between a check and the connection (DNS rebinding) gains nothing.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        results = [answer for answer in answers if is_public_address(answer["host"])]
        if not results:
            raise OSError(f"{host} resolves only to private or reserved addresses")
        return results

    async def close(self) -> None:
        await self._inner.close()
