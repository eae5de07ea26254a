"""The process-local fan-out: one subscription per process, a bounded outbox
per socket, recovery from a layer that drops."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from shop_manager.live import fanout
from shop_manager.live.groups import DASHBOARD_GROUP
from tests.helpers.layers import FlakyReceiveLayer
from tests.helpers.products import create, update
from tests.helpers.sockets import connect
from tests.helpers.users import login
from tests.helpers.waiting import HANG_BOUND, eventually_async

pytestmark = pytest.mark.asyncio


@pytest.mark.django_db(transaction=True)
async def test_one_subscription_serves_every_local_socket(settings, staff_user):
    # Reads the in-memory layer's group table; the Redis envs run it here too.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    layer = get_channel_layer()
    client = await login(staff_user)
    sockets = [await connect(client) for _ in range(3)]
    for socket in sockets:
        await socket.receive_json_from()
    assert len(layer.groups[DASHBOARD_GROUP]) == 1

    tea = await create()
    await update(tea, quantity=9)
    for socket in sockets:
        assert (await socket.receive_json_from())["action"] == "created"
        assert (await socket.receive_json_from())["action"] == "updated"
    for socket in sockets:
        await socket.disconnect()
    assert DASHBOARD_GROUP not in layer.groups  # The last one out unsubscribes.


class Recorder:
    user_pk = 1
    session_key = None
    sees_costs = True
    valid_at = 0

    def __init__(self) -> None:
        self.frames: list[str] = []

    def deliver(self, text: str) -> None:
        self.frames.append(text)

    def cut_off(self) -> None:
        raise AssertionError("cut off")


async def test_reader_survives_a_layer_outage(settings, monkeypatch):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "tests.helpers.layers.FlakyReceiveLayer"}
    }
    FlakyReceiveLayer.failed = False
    monkeypatch.setattr(fanout, "RETRY_SECONDS", 0.01)
    hub = fanout.LocalFanout()
    # The reader asks the barrier for a pass once it listens again.
    mended: list[int | None] = []
    want = hub.barrier.want

    def note_mended(generation: int | None) -> None:
        mended.append(generation)
        want(generation)

    monkeypatch.setattr(hub.barrier, "want", note_mended)
    recorder = Recorder()
    await hub.join(recorder)
    # The first receive fails; the reader subscribes again.
    await eventually_async(lambda: mended, what="the reader to listen again")
    layer = get_channel_layer()
    await hub.refresh()
    await layer.group_send(
        DASHBOARD_GROUP, {"type": "product.event", "text": "hello", "generation": 0}
    )
    await layer.group_send(DASHBOARD_GROUP, {"type": "other.message"})
    # A sentinel: once it is in, the message before it was handled (ignored).
    await layer.group_send(
        DASHBOARD_GROUP, {"type": "product.event", "text": "bye", "generation": 0}
    )
    await eventually_async(lambda: len(recorder.frames) > 1, what="the events")
    assert recorder.frames == ["hello", "bye"]
    await hub.leave(recorder)
    assert hub.channel is None


async def test_the_last_socket_out_stops_a_reader_that_lost_a_cancellation(settings):
    # Found on py310/py311 over Redis: the reader went on receiving, and the
    # leave() waiting for it held the fan-out's lock for good.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "tests.helpers.layers.CancelSwallowingLayer"}
    }
    hub = fanout.LocalFanout()
    recorder = Recorder()
    await hub.join(recorder)
    await asyncio.sleep(0)  # The reader is in receive().
    reader = hub._reader
    await asyncio.wait_for(hub.leave(recorder), HANG_BOUND)
    assert reader is not None
    assert reader.done()
    assert hub.channel is None
    # The fan-out still serves the next socket.
    await asyncio.wait_for(hub.join(recorder), HANG_BOUND)
    await hub.leave(recorder)


@pytest.mark.django_db(transaction=True)
async def test_heartbeats_continue_while_the_layer_is_down(
    settings, staff_user, monkeypatch
):
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.05}
    socket = await connect(await login(staff_user))
    await socket.receive_json_from()

    async def layer_down(self: fanout.LocalFanout) -> None:
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(fanout.LocalFanout, "refresh", layer_down)
    for _ in range(3):
        assert (await socket.receive_json_from())["type"] == "heartbeat"
    await socket.disconnect()


async def test_a_recheck_broadcast_and_a_reconnect_ask_the_barrier_for_a_pass(
    settings, monkeypatch
):
    """The process re-checks its sockets when asked, and after its channel
    layer comes back (a broadcast may have been lost meanwhile)."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "tests.helpers.layers.FlakyReceiveLayer"}
    }
    FlakyReceiveLayer.failed = False
    monkeypatch.setattr(fanout, "RETRY_SECONDS", 0.01)
    hub = fanout.LocalFanout()
    rechecks: list[int | None] = []
    monkeypatch.setattr(hub.barrier, "want", rechecks.append)
    recorder = Recorder()
    await hub.join(recorder)
    await eventually_async(lambda: rechecks, what="the reconnect's pass")
    assert rechecks == [None]  # The reconnect: a pass in any case.
    await get_channel_layer().group_send(
        DASHBOARD_GROUP, {"type": "access.recheck", "generation": 7}
    )
    await eventually_async(lambda: len(rechecks) > 1, what="the broadcast's pass")
    assert rechecks == [None, 7]
    assert recorder.frames == []
    await hub.leave(recorder)
