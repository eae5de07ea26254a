"""How many dashboard sockets one user may hold open at once:
``SHOP_MANAGER["SOCKETS_PER_USER"]`` (20 by default; ``None``: no limit).

A socket past the limit is accepted and closed at once with code 4429
(``CLOSE_TOO_MANY_SOCKETS``), before any frame: each open socket holds an
outbox and a share of every event's fan-out, and one staff account opening
hundreds of them would hold as much memory as hundreds of staff.

Counted across every server process when the feed's channel layer is
channels-redis, in that same Redis: a sorted set per user holds the user's
open sockets, each with an expiry that its process pushes forward at every
heartbeat. Taking a place is one script run on Redis (drop the expired, count,
add), so two processes never both take the last place. A process that dies
without closing its sockets (SIGKILL) leaves their places taken until they
expire, at most ``ttl()`` seconds (three heartbeats: 15 s by default);
clients refused meanwhile retry with backoff. With any other layer (the
in-memory one serves one process) the count is the process's own.

If Redis does not answer, the socket is let in uncounted (and the failure
logged): the limit guards memory; it must not turn a Redis hiccup into
refused dashboards.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from typing import Any

from django.conf import settings

from shop_manager.conf import get_config
from shop_manager.live.loops import per_event_loop

__all__ = ["SocketQuota", "quota_for_running_loop", "ttl"]

logger = logging.getLogger("shop_manager.live.quota")

# Redis connections a process uses for the count, per Redis host. A burst of
# connects (a server restart) waits for one of these rather than opening a
# connection per socket, which cost more than the count itself.
CONNECTIONS = 4

# Drop the user's expired places, and take one if fewer than ARGV[1] are
# left: at Redis' own clock, so processes on hosts whose clocks disagree agree.
TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], t + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return 1
"""
# Push the expiry of the places still held (XX: a place released meanwhile
# is not taken again).
KEEP = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000 + tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', t, ARGV[i + 1])
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[1])))
end
return #KEYS
"""


def ttl() -> float:
    """Seconds a place lasts unless its process renews it (every heartbeat)."""
    return 3 * float(get_config()["HEARTBEAT_SECONDS"])


def _layer_config() -> dict[str, Any] | None:
    """The feed's channel layer's CONFIG if it is a channels-redis layer."""
    layers = getattr(settings, "CHANNEL_LAYERS", {}) or {}
    layer = layers.get(get_config()["CHANNEL_LAYER"]) or {}
    backend = str(layer.get("BACKEND", ""))
    if not backend.startswith("channels_redis."):
        return None
    config: dict[str, Any] = layer.get("CONFIG") or {}
    return config


class SocketQuota:
    """One per event loop (so per server process)."""

    def __init__(self) -> None:
        # The places this process holds: token → user pk; and how many per user.
        self.held: dict[str, Any] = {}
        self.counts: dict[Any, int] = {}
        self._clients: list[Any] | None = None
        # Redis commands in flight; the clients close only when none are.
        self._busy = 0

    async def take(self, user_pk: Any) -> str | None:
        """A place for one more of ``user_pk``'s sockets: a token to give
        back with :meth:`release`, or None when the user has no place left
        (``""`` when uncounted: no limit, or Redis did not answer)."""
        limit = get_config()["SOCKETS_PER_USER"]
        if limit is None:
            return ""
        token = uuid.uuid4().hex
        config = _layer_config()
        if config is None:
            if self.counts.get(user_pk, 0) >= limit:
                return None
        else:
            key = self._key(config, user_pk)
            self._busy += 1
            try:
                taken = await self._client(config, key).eval(
                    TAKE, 1, key, limit, ttl(), token
                )
            except Exception:
                logger.warning(
                    "Could not count user %s's dashboard sockets; letting this "
                    "one in uncounted.",
                    user_pk,
                    exc_info=True,
                )
                return ""
            finally:
                self._busy -= 1
            if not taken:
                return None
        self.held[token] = user_pk
        self.counts[user_pk] = self.counts.get(user_pk, 0) + 1
        return token

    async def release(self, token: str | None) -> None:
        """Give a place back (safe for ``""``, None and a token given back)."""
        user_pk = self.held.pop(token, None) if token else None
        if user_pk is None:
            return
        if self.counts[user_pk] > 1:
            self.counts[user_pk] -= 1
        else:
            del self.counts[user_pk]
        config = _layer_config()
        if config is not None:
            key = self._key(config, user_pk)
            self._busy += 1
            try:
                await self._client(config, key).zrem(key, token)
            except Exception:  # It expires on its own.
                logger.warning("Could not release a socket's place.", exc_info=True)
            finally:
                self._busy -= 1
        if not self.held and not self._busy:
            await self._close()

    async def renew(self) -> None:
        """Push forward the expiry of every place this process holds (the
        ticker calls this every heartbeat)."""
        config = _layer_config()
        if config is None or not self.held:
            return
        by_host: dict[int, tuple[list[str], list[str]]] = {}
        for token, user_pk in self.held.items():
            key = self._key(config, user_pk)
            keys, tokens = by_host.setdefault(self._host(config, key), ([], []))
            keys.append(key)
            tokens.append(token)
        self._busy += 1
        try:
            for host, (keys, tokens) in by_host.items():
                client = self._clients_for(config)[host]
                await client.eval(KEEP, len(keys), *keys, ttl(), *tokens)
        finally:
            self._busy -= 1

    def _key(self, config: dict[str, Any], user_pk: Any) -> str:
        return f"{config.get('prefix', 'asgi')}:shop_manager:sockets:{user_pk}"

    def _host(self, config: dict[str, Any], key: str) -> int:
        return zlib.crc32(key.encode()) % len(self._clients_for(config))

    def _client(self, config: dict[str, Any], key: str) -> Any:
        return self._clients_for(config)[self._host(config, key)]

    def _clients_for(self, config: dict[str, Any]) -> list[Any]:
        if self._clients is None:
            from channels_redis.utils import (  # type: ignore[import-untyped]
                decode_hosts,
            )
            from redis import asyncio as aioredis

            self._clients = [
                aioredis.Redis(connection_pool=_pool(host))
                for host in decode_hosts(config.get("hosts"))
            ]
        return self._clients

    async def _close(self) -> None:
        # Nobody here holds a place: let go of the connections, as the
        # fan-out does of its subscription.
        clients, self._clients = self._clients, None
        for client in clients or ():
            try:
                await client.aclose(close_connection_pool=True)
            except Exception:
                logger.debug("Could not close a Redis client.", exc_info=True)


def _pool(host: dict[str, Any]) -> Any:
    """A pool of at most ``CONNECTIONS`` to a channels-redis host, with the
    host's own options (timeouts, retries); commands beyond them wait."""
    from channels_redis.utils import create_pool
    from redis import asyncio as aioredis

    if "address" not in host:  # Sentinels, or host and port: as the layer does.
        return create_pool(host)
    options = {
        key: value
        for key, value in host.items()
        if key not in {"address", "max_connections"}
    }
    return aioredis.BlockingConnectionPool.from_url(
        host["address"], max_connections=CONNECTIONS, timeout=ttl(), **options
    )


quota_for_running_loop = per_event_loop(SocketQuota)
