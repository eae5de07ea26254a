"""Fixtures for the fault cases: a private Redis the tests may freeze or kill."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.faults import FreezableRedis
from tests.helpers.layers import FAULT_SOCKET_TIMEOUT, redis_layers
from tests.helpers.servers import redis_server_binary, require


@pytest.fixture(
    params=[
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "channels_redis.core.RedisChannelLayer",
    ],
    ids=["pubsub", "core"],
)
def private_redis(
    request: pytest.FixtureRequest, tmp_path: Path, settings: Any
) -> Iterator[FreezableRedis]:
    """A redis-server of our own, each channels-redis layer pointed at it in
    turn: the shared one must never be stopped."""
    binary = redis_server_binary()
    require("redis-server", binary is not None, "Install Debian's redis-server.")
    assert binary is not None
    redis = FreezableRedis(binary, tmp_path)
    redis.start()
    settings.CHANNEL_LAYERS = redis_layers(
        request.param,
        redis.url,
        f"faults-{uuid.uuid4().hex}",
        socket_timeout=FAULT_SOCKET_TIMEOUT,
    )
    try:
        yield redis
    finally:
        if redis.running():
            redis.thaw()  # A stopped process ignores SIGTERM until continued.
        redis.stop()
