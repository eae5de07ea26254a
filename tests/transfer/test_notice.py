"""An import reaches dashboards as one bounded notice, whatever its size."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.transfer.apply import import_table
from shop_manager.transfer.plan import Rights
from shop_manager.transfer.reading import read_file
from tests.helpers.transfer import csv_bytes
from tests.helpers.waiting import HANG_BOUND

pytestmark = pytest.mark.django_db(transaction=True)

CHANNEL_LAYER = {"BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier"}
LOGGING = {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier"}
SENTINEL = {"type": "product.event", "text": "sentinel"}


async def messages_until_sentinel(layer: Any, channel: str) -> list[dict[str, Any]]:
    """Everything the group got before our own sentinel, which we send last."""
    await layer.group_send(DASHBOARD_GROUP, SENTINEL)
    received = []
    while True:
        message = await asyncio.wait_for(layer.receive(channel), HANG_BOUND)
        if message.get("text") == "sentinel":
            return received
        received.append(message)


@pytest.mark.asyncio
@override_settings(SHOP_MANAGER={"NOTIFIERS": {"live": CHANNEL_LAYER, "log": LOGGING}})
async def test_dashboards_and_the_log_get_one_notice_for_an_import(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One event loop for the whole test: the pub/sub layer only lets a
    # channel made in this loop join a group.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(DASHBOARD_GROUP, channel)
    rows = [["sku", "name", "price"]] + [[f"S-{n}", "x", "1"] for n in range(3)]
    table = read_file(io.BytesIO(csv_bytes(rows)))
    try:
        with caplog.at_level(logging.INFO, logger="shop_manager.events"):
            result = await database_sync_to_async(import_table)(
                table, Rights(), actor=None
            )
        received = await messages_until_sentinel(layer, channel)
    finally:
        await layer.group_discard(DASHBOARD_GROUP, channel)
    first, last = result.events[0].pk, result.events[-1].pk
    assert [json.loads(m["text"]) for m in received] == [
        {"type": "heartbeat", "last_id": last}
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "shop_manager.events"]
    assert lines == [f"#{first}-#{last} 3 products created in bulk"]
