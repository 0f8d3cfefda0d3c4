"""Every open websocket, per user, so that caps hold and shutdown can close them all."""

from __future__ import annotations

import asyncio

from aiohttp import WSCloseCode, web

__all__ = ["SocketRegistry"]


class SocketRegistry:
    def __init__(self, max_per_user: int) -> None:
        self._max_per_user = max_per_user
        self._by_user: dict[str, set[web.WebSocketResponse]] = {}

    def __len__(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    def add(self, user_id: str, socket: web.WebSocketResponse) -> bool:
        """Register the socket, or refuse it if the user already has the most allowed."""
        sockets = self._by_user.setdefault(user_id, set())
        if len(sockets) >= self._max_per_user:
            return False
        sockets.add(socket)
        return True

    def discard(self, user_id: str, socket: web.WebSocketResponse) -> None:
        sockets = self._by_user.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_user[user_id]

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY, so that clients know to reconnect elsewhere."""
        sockets = [socket for group in self._by_user.values() for socket in group]
        await asyncio.gather(
            *(socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for socket in sockets),
            return_exceptions=True,
        )
