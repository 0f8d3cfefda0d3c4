"""Conversations in Redis, so that any instance continues any user's conversation.

The bounds are the memory store's, enforced atomically by Lua scripts: a list per user
trimmed on every push, a sorted set of users by last activity trimmed on write, and a
TTL on every list for idle expiry. The scripts touch keys they derive from a user id,
so the store needs one Redis (or a primary with replicas), not a Redis Cluster.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import redis.asyncio

from ..errors import UpstreamUnavailable
from .model import ConversationStats, Message, Role

__all__ = ["RedisConversationStore"]

log = logging.getLogger(__name__)

# Activity is timed by Redis' clock, so instances with skewed clocks agree on who is idle.
_NOW = "local clock = redis.call('TIME') local now = clock[1] * 1000 + math.floor(clock[2] / 1000)\n"

# KEYS: the user's list, the users set, the evicted counter.
# ARGV: message, max messages, idle ms, max users, user id, list key prefix.
_APPEND = _NOW + """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[5])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  local gone = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, user in ipairs(gone) do redis.call('DEL', ARGV[6] .. user) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('INCRBY', KEYS[3], #gone)
end
return redis.call('LLEN', KEYS[1])
"""

# KEYS: the user's list, the users set. ARGV: idle ms, user id. Reading counts as activity;
# ZADD XX never re-adds a user who was evicted.
_READ = _NOW + """
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('LRANGE', KEYS[1], 0, -1)
"""

# KEYS: the users set, the expired counter. ARGV: idle ms, list key prefix.
_SWEEP = _NOW + """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, 1000)
for _, user in ipairs(gone) do redis.call('DEL', ARGV[2] .. user) end
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('INCRBY', KEYS[2], #gone)
end
return #gone
"""


class RedisConversationStore:
    """A failing Redis makes writes and reads answer 503: a conversation is never silently lost."""

    def __init__(
        self, client: redis.asyncio.Redis, *, prefix: str, max_messages: int, max_users: int, idle_ttl: float
    ) -> None:
        self._client = client
        self._lists = f"{prefix}:conv:messages:"
        self._users = f"{prefix}:conv:users"
        self._evicted = f"{prefix}:conv:evicted"
        self._expired = f"{prefix}:conv:expired"
        self._max_messages = max_messages
        self._max_users = max_users
        self._idle_ms = int(idle_ttl * 1000)
        self._append = client.register_script(_APPEND)
        self._read = client.register_script(_READ)
        self._sweep = client.register_script(_SWEEP)
        self._errors = 0
        self._snapshot = ConversationStats(0, 0, 0, 0)

    @property
    def stats(self) -> ConversationStats:
        """As of the last sweep: counting every list on each scrape would cost a round trip per user."""
        snapshot = self._snapshot
        return ConversationStats(snapshot.users, snapshot.messages, snapshot.users_evicted, snapshot.users_expired,
                                 self._errors)

    async def append(self, user_id: str, role: Role, content: str) -> int:
        message = orjson.dumps({"role": role, "content": content, "timestamp": time.time()})
        keys = [self._lists + user_id, self._users, self._evicted]
        args = [message, self._max_messages, self._idle_ms, self._max_users, user_id, self._lists]
        return int(await self._call(self._append(keys=keys, args=args)))

    async def history(self, user_id: str) -> list[Message]:
        raw = await self._call(self._read(keys=[self._lists + user_id, self._users], args=[self._idle_ms, user_id]))
        return [Message(**orjson.loads(item)) for item in raw]

    async def clear(self, user_id: str) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._lists + user_id)
            pipe.zrem(self._users, user_id)
            await self._call(pipe.execute())

    async def sweep(self) -> int:
        """Drop users idle past the TTL (their lists expire by themselves), then refresh the stats."""
        removed = int(await self._call(self._sweep(keys=[self._users, self._expired],
                                                   args=[self._idle_ms, self._lists])))
        users = await self._call(self._client.zrange(self._users, 0, -1))
        async with self._client.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.llen(self._lists + user.decode())
            pipe.get(self._evicted)
            pipe.get(self._expired)
            *lengths, evicted, expired = await self._call(pipe.execute())
        self._snapshot = ConversationStats(len(users), sum(lengths), int(evicted or 0), int(expired or 0))
        return removed

    async def _call(self, operation: Any) -> Any:
        try:
            return await operation
        except redis.RedisError as exc:
            self._errors += 1
            log.warning("conversation store: %r", exc)
            raise UpstreamUnavailable("redis", "the conversation store is unavailable; try again shortly") from None

