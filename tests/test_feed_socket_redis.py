"""The dashboard socket on channels-redis against the real Redis, both layers."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from tests import services
from tests.test_feed_socket import (
    assert_closed_forbidden,
    change,
    create,
    login,
    open_socket,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
]

LAYERS = [
    "channels_redis.core.RedisChannelLayer",
    "channels_redis.pubsub.RedisPubSubChannelLayer",
]


@pytest.fixture(params=LAYERS, ids=["core", "pubsub"])
def redis_layer(request, settings):
    host, port = services.redis_address()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": request.param,
            "CONFIG": {
                "hosts": [
                    {"address": f"redis://{host}:{port}/0", "socket_timeout": 30}
                ],
                # A prefix of its own, so no other test run's events arrive here.
                "prefix": f"sm-test-{uuid.uuid4().hex[:12]}",
            },
        }
    }
    return request.param


async def test_replay_and_live_event_over_redis(redis_layer, staff_user):
    tea = await create()
    socket, connected = await open_socket(await login(staff_user), "?after=0")
    assert connected
    batch = await socket.receive_json_from(timeout=5)
    assert [e["product"]["id"] for e in batch["events"]] == [tea.pk]
    await change(tea, quantity=9)
    event = await socket.receive_json_from(timeout=5)
    assert event["message"] == "Product 'Tea' was updated: quantity 4 → 9"
    await socket.disconnect()


async def test_logout_closes_socket_over_redis(redis_layer, staff_user):
    client = await login(staff_user)
    socket, _ = await open_socket(client)
    await socket.receive_json_from(timeout=5)
    await database_sync_to_async(client.post)("/accounts/logout/")
    await assert_closed_forbidden(socket)
    await socket.disconnect()
