"""Every open websocket, per user, so that caps hold and shutdown can close them all."""

from __future__ import annotations

import asyncio

from aiohttp import WSCloseCode, web

__all__ = ["SocketRegistry"]


class SocketRegistry:
    """Sockets still authenticating are held apart, and capped, so shutdown closes them too."""

    def __init__(self, max_per_user: int, max_unauthenticated: int = 1_000) -> None:
        self._max_per_user = max_per_user
        self._max_unauthenticated = max_unauthenticated
        self._unauthenticated: set[web.WebSocketResponse] = set()
        self._by_user: dict[str, set[web.WebSocketResponse]] = {}
        self._closing = False

    def __len__(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    def admit(self, socket: web.WebSocketResponse) -> bool:
        """Hold a socket that has yet to authenticate, unless too many already wait."""
        if self._closing or len(self._unauthenticated) >= self._max_unauthenticated:
            return False
        self._unauthenticated.add(socket)
        return True

    def add(self, user_id: str, socket: web.WebSocketResponse) -> bool:
        """Register the socket, or refuse it if the user already has the most allowed."""
        self._unauthenticated.discard(socket)
        sockets = self._by_user.setdefault(user_id, set())
        if len(sockets) >= self._max_per_user:
            return False
        sockets.add(socket)
        return True

    def discard(self, user_id: str | None, socket: web.WebSocketResponse) -> None:
        self._unauthenticated.discard(socket)
        sockets = self._by_user.get(user_id) if user_id is not None else None
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_user[user_id]

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY, so that clients know to reconnect elsewhere;
        sockets that arrive from now on are turned away."""
        self._closing = True
        sockets = [*self._unauthenticated, *(socket for group in self._by_user.values() for socket in group)]
        await asyncio.gather(
            *(socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for socket in sockets),
            return_exceptions=True,
        )
