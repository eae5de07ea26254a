"""The bare ceiling: a `websockets` server, no Django, that subscribes to one
Redis pub/sub channel and broadcasts every message to all its sockets.

    python benchmarks/ceiling_server.py --port 9000 --redis redis://127.0.0.1:6380/0

What the live engine does at its cheapest: one subscription, one frame
written per socket. The bench measures the package against it.
"""

from __future__ import annotations

import argparse
import asyncio

import redis.asyncio as aioredis
import websockets
from websockets.asyncio.server import ServerConnection, serve

CHANNEL = "bench-ceiling"


async def relay(port: int, redis_url: str) -> None:
    clients: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        clients.add(connection)
        try:
            await connection.wait_closed()
        finally:
            clients.discard(connection)

    client = aioredis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,  # As the Django server runs: deflate off.
        ping_interval=None,
        backlog=4096,
    ):
        async for message in pubsub.listen():
            if message["type"] == "message":
                websockets.broadcast(clients, message["data"].decode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    asyncio.run(relay(args.port, args.redis))


if __name__ == "__main__":
    main()
