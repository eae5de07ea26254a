"""shop_manager.live.layer_buffers: a closed socket's receive queue is released."""

from __future__ import annotations

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

from shop_manager.live.layer_buffers import forget_channel

pytestmark = pytest.mark.asyncio


async def test_an_empty_queue_of_a_closed_channel_is_dropped():
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/0"])
    layer.receive_buffer["specific.x!closed"]  # What a cancelled receive leaves.
    forget_channel(layer, "specific.x!closed")
    assert "specific.x!closed" not in layer.receive_buffer


async def test_a_queue_holding_messages_is_kept():
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/0"])
    layer.receive_buffer["specific.x!busy"].put_nowait({"type": "product.event"})
    forget_channel(layer, "specific.x!busy")
    assert layer.receive_buffer["specific.x!busy"].qsize() == 1


async def test_other_layers_and_unknown_channels_are_left_alone():
    memory = InMemoryChannelLayer()
    forget_channel(memory, "specific.x!gone")
    assert memory.channels == {}
    redis = RedisChannelLayer()
    forget_channel(redis, "specific.x!never-seen")
    assert dict(redis.receive_buffer) == {}
