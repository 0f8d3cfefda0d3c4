"""Keeping fetches of URLs we did not choose away from private networks."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

__all__ = ["PublicOnlyResolver", "is_public_address", "literal_host_allowed"]


def is_public_address(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def literal_host_allowed(host: str) -> bool:
    """False for an IP literal outside the public internet; names are left to the resolver.

    aiohttp connects to an IP literal without asking the resolver, so literals are
    checked here, before any request.
    """
    try:
        return is_public_address(host.strip("[]"))
    except ValueError:
        return host.lower() not in ("localhost", "localhost.localdomain")


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
