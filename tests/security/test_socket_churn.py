"""Thousands of dashboard sockets opening and closing leave nothing behind:
no fan-out recipients, ticker watchers, channel-layer groups or channels,
Redis keys, or memory."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.ticker import ticker_for_running_loop
from tests.helpers.sockets import dashboard_socket
from tests.helpers.users import client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.slow,
    # 2,500 cycles over Redis took over ten minutes (the suite's default
    # limit) on a clean-clone `make test` at load 16.
    pytest.mark.timeout(1800),
    # Thousands of the same connect and close add no line to the coverage
    # report, and measuring them doubled the case's CPU (and put coverage's
    # own allocations into what tracemalloc counts).
    pytest.mark.no_cover,
]

# Cycles (of two sockets each) before measuring: imports, caches, free lists
# and the thread pool's per-thread state settle first (on Python 3.10 that
# took about 500 cycles: +44 KB, then +34 KB a 250 cycles, then flat).
WARM_UP = 500
# Cycles in each of the two measured batches: 1,000 sockets a batch.
BATCH = 500
# Over Redis every cycle also waits on Redis and PostgreSQL, and 1,500 cycles
# took twelve minutes of a loaded `make test`. The fine verdict (a few dozen
# bytes a socket) is the in-memory layer's, run on the oldest Python; over
# Redis, 300 sockets a batch still catch a leak of about 110 bytes a socket,
# and the receive buffers and Redis keys, checked exactly, catch what
# channels-redis itself keeps per channel (the 3.4 KB leak this test found,
# shop_manager.live.layer_buffers). Growth seen over Redis at this size on
# Python 3.13: 15 to 21 KB in the first batch, 6 to 7 KB in the second.
REDIS_WARM_UP = 150
REDIS_BATCH = 150
# Growth over a batch that counts as growing. Retained memory after the
# warm-up is not flat: objects in flight (tasks, timers, thread-pool work,
# query caches) make it wander up and down by ±16 KB from one batch to the
# next, and a one-off step (a table resizing) can add more once. A leak
# grows in *every* batch, by its size times the batch's socket count; so the
# test fails only when both batches grew by more than this: a leak of 48
# bytes a socket adds 48 KB to each (a short string kept per connect, about
# 75 bytes, failed it on Python 3.10 and 3.13 when tried; one int, about 36,
# is at the edge), while noise would have to climb 64 KB in two straight
# steps.
GROWTH_BOUND = 32 * 1024


def layer_state() -> Any:
    """What the channel layer holds for sockets: the in-memory layer's groups
    and channels, or channels-redis' local receive queues and the number of
    Redis keys under this run's prefix."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        groups = {group: set(members) for group, members in layer.groups.items()}
        return groups, set(layer.channels)
    if isinstance(layer, RedisChannelLayer):
        connection = redis.Redis.from_url(settings.REDIS_URL)
        try:
            keys = sum(
                1 for _ in connection.scan_iter(match=f"{layer.prefix}*", count=1000)
            )
        finally:
            connection.close()
        return set(layer.receive_buffer), keys
    pytest.skip(f"no state to inspect in {type(layer).__name__}")


async def open_socket(client: Any) -> Any:
    socket = dashboard_socket(client)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "heartbeat"
    return socket


async def connect_and_leave(client: Any) -> None:
    """Two overlapping sockets, as two tabs: the first to close is not the
    last on the process, the second empties it and the fan-out unsubscribes."""
    first = await open_socket(client)
    second = None
    try:
        second = await open_socket(client)
    finally:
        await first.disconnect()
        if second is not None:
            await second.disconnect()


def retained_now() -> int:
    gc.collect()
    current, _peak = tracemalloc.get_traced_memory()
    return current


async def test_connect_disconnect_churn_leaves_nothing_behind():
    """Fault: a flapping network or a reload-happy staff member opens and
    closes the dashboard socket thousands of times. Safe: after every socket
    has closed, no recipient, watcher, group membership, channel or Redis key
    is left, and retained memory does not grow with the number of sockets
    (a per-connection leak of a few dozen bytes would)."""
    client = await database_sync_to_async(client_for)("staff")
    before = layer_state()
    over_redis = isinstance(get_channel_layer(), RedisChannelLayer)
    warm_up, batch = (REDIS_WARM_UP, REDIS_BATCH) if over_redis else (WARM_UP, BATCH)
    tracemalloc.start()
    try:
        for _ in range(warm_up):
            await connect_and_leave(client)
        settled = retained_now()
        growth = []
        for _batch in range(2):
            for _ in range(batch):
                await connect_and_leave(client)
            measured = retained_now()
            growth.append(measured - settled)
            settled = measured
    finally:
        tracemalloc.stop()

    assert fanout_for_running_loop().recipients == set()
    assert ticker_for_running_loop().watchers == set()
    buffers, keys = layer_state()
    assert buffers == before[0]
    # At most as many: a key an earlier test left (a group with a TTL) may
    # expire meanwhile, but the churn must add none.
    assert keys <= before[1]
    assert min(growth) < GROWTH_BOUND, (
        f"retained memory grew by {growth[0]} then {growth[1]} bytes over two "
        f"batches of {2 * batch} sockets: about {min(growth) // (2 * batch)} "
        "bytes a socket are never freed"
    )
