"""One writer per socket: every frame after the opening one leaves through the
socket's outbox, in order; frames that pile up leave as one ``frames``
message; a socket that was sent something needs no heartbeat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels import consumer as channels_consumer
from channels.sessions import InstanceSessionWrapper
from channels.testing import WebsocketCommunicator

from shop_manager.live.consumer import ProductFeedConsumer
from shop_manager.live.protocol import event_text
from shop_manager.live.ticker import ticker_for_running_loop
from shop_manager.models import ProductEvent
from tests.helpers.products import create
from tests.helpers.sockets import connect, unpacked
from tests.helpers.users import login
from tests.helpers.waiting import eventually_async

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

LOCMEM = {"default": {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}}


@pytest.fixture(autouse=True)
def _quiet(settings: Any) -> None:
    # Frames come only from the test: no live notifier, no background ticks.
    settings.SHOP_MANAGER = {"NOTIFIERS": LOCMEM, "HEARTBEAT_SECONDS": 3600}


@pytest_asyncio.fixture
async def socket(staff_user: Any) -> AsyncIterator[WebsocketCommunicator]:
    communicator = await connect(await login(staff_user))
    await communicator.receive_json_from()  # The opening heartbeat.
    yield communicator
    await communicator.disconnect()


def the_consumer() -> ProductFeedConsumer:
    [consumer] = ticker_for_running_loop().watchers
    assert isinstance(consumer, ProductFeedConsumer)
    return consumer


def hold_first_send(consumer: ProductFeedConsumer) -> asyncio.Event:
    """Make the socket's next write wait until the returned event is set (a
    slow client); later writes go straight through."""
    gate = asyncio.Event()
    send = consumer.transport_send
    assert send is not None
    calls = 0

    async def held(message: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
        await send(message)

    consumer.transport_send = held
    return gate


async def until_picked_up(consumer: ProductFeedConsumer) -> None:
    """Let the writer take what is queued (it then waits in its send)."""
    await eventually_async(lambda: not consumer.outbox, what="the writer", interval=0)


async def logged_events(*names: str) -> list[str]:
    for name in names:
        await create(name)
    events = ProductEvent.objects.order_by("id")
    return [event_text(event) async for event in events]


async def frames_before_sentinel(
    socket: WebsocketCommunicator, consumer: ProductFeedConsumer
) -> list[dict[str, Any]]:
    """Every frame the socket received before a sentinel event queued now:
    the writer keeps queue order, so whatever was queued earlier (and
    nothing queued later) comes first, however slowly the machine runs."""
    *_, sentinel = await logged_events("Sentinel")
    consumer.deliver(sentinel)
    frames: list[dict[str, Any]] = []
    while True:
        for frame in unpacked(await socket.receive_json_from()):
            if frame.get("product", {}).get("name") == "Sentinel":
                return frames
            frames.append(frame)


async def test_a_heartbeat_never_overtakes_events_queued_before_it(socket):
    """A client that got a heartbeat before events it covers would fetch
    events already on their way."""
    consumer = the_consumer()
    first, second = await logged_events("Tea", "Coffee")
    gate = hold_first_send(consumer)
    consumer.deliver(first)
    await until_picked_up(consumer)
    consumer.deliver(second)  # Still queued when a heartbeat is due.
    ticker = ticker_for_running_loop()
    await ticker.tick()  # Spared: the socket was sent events this interval.
    await ticker.tick()  # Due: its id covers both events.
    gate.set()
    frames = await frames_before_sentinel(socket, consumer)
    assert [frame["type"] for frame in frames] == ["event", "event", "heartbeat"]
    assert frames[2]["last_id"] == frames[1]["id"] == frames[0]["id"] + 1


async def test_frames_that_pile_up_leave_as_one_message_in_order(socket):
    consumer = the_consumer()
    texts = await logged_events("Tea", "Coffee", "Milk", "Sugar")
    gate = hold_first_send(consumer)
    consumer.deliver(texts[0])
    await until_picked_up(consumer)
    for text in texts[1:]:
        consumer.deliver(text)
    gate.set()
    alone = await socket.receive_json_from()
    together = await socket.receive_json_from()
    assert alone["type"] == "event"  # Nothing waited for company.
    assert together["type"] == "frames"
    ids = [alone["id"]] + [frame["id"] for frame in together["frames"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert await frames_before_sentinel(socket, consumer) == []


async def test_a_single_frame_goes_out_as_it_is(socket):
    consumer = the_consumer()
    [text] = await logged_events("Tea")
    consumer.deliver(text)
    frame = await socket.receive_json_from()
    assert frame["type"] == "event"
    assert frame["product"]["name"] == "Tea"


async def test_a_socket_sent_something_gets_no_heartbeat_that_interval(socket):
    consumer = the_consumer()
    [text] = await logged_events("Tea")
    consumer.deliver(text)
    await socket.receive_json_from()
    ticker = ticker_for_running_loop()
    await ticker.tick()
    # A heartbeat from that tick would be queued before this sentinel.
    assert await frames_before_sentinel(socket, consumer) == []
    await ticker.tick()  # Spared again: the sentinel was sent this interval.
    await ticker.tick()  # A whole interval with nothing sent.
    latest = await ProductEvent.objects.order_by("-id").afirst()
    heartbeat = {"type": "heartbeat", "last_id": latest.pk}
    assert await socket.receive_json_from() == heartbeat
    # A heartbeat is no reason to skip the next one: an idle socket gets one
    # every interval.
    await ticker.tick()
    assert await socket.receive_json_from() == heartbeat


async def test_an_idle_socket_holds_no_writer_task(socket):
    consumer = the_consumer()
    assert consumer.writer is None
    [text] = await logged_events("Tea")
    gate = hold_first_send(consumer)
    consumer.deliver(text)
    assert consumer.writer is not None  # Alive while its frame is in flight.
    gate.set()
    assert (await socket.receive_json_from())["type"] == "event"
    assert consumer.writer is None
    assert consumer.outbox == []


async def test_frames_queued_while_a_write_waits_share_its_one_writer(socket):
    consumer = the_consumer()
    texts = await logged_events("Tea", "Coffee", "Milk")
    gate = hold_first_send(consumer)
    consumer.deliver(texts[0])
    writer = consumer.writer
    await until_picked_up(consumer)
    for text in texts[1:]:
        consumer.deliver(text)
        assert consumer.writer is writer
    gate.set()
    frames = await frames_before_sentinel(socket, consumer)
    assert [frame["product"]["name"] for frame in frames] == ["Tea", "Coffee", "Milk"]


async def test_frames_are_written_with_the_servers_own_send(socket):
    """Channels' session wrapper acts only on HTTP responses: frames skip it."""
    consumer = the_consumer()
    assert not isinstance(
        getattr(consumer.transport_send, "__self__", None), InstanceSessionWrapper
    )
    assert isinstance(
        getattr(consumer.base_send, "__self__", None), InstanceSessionWrapper
    )


async def test_connect_and_disconnect_make_no_extra_thread_hops(
    staff_user, monkeypatch
):
    """Every database read goes through database_sync_to_async, which closes
    stale connections itself; Channels' hop before each handler is skipped."""
    hops = []

    async def counted() -> None:
        hops.append("hop")

    monkeypatch.setattr(channels_consumer, "aclose_old_connections", counted)
    socket = await connect(await login(staff_user))
    await socket.receive_json_from()
    await socket.disconnect()
    assert hops == []
