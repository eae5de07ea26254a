"""Hostile input on the dashboard socket, through the real routing (tests.asgi).

The attacks: a staff member's browser (or anyone holding a staff session)
sends a deeply nested JSON frame, or opens the socket with a 5,000-digit
``?after=``. Before the fix either one raised inside the consumer after the
socket was accepted: the socket dropped without a close frame and, because
disconnect() never ran, stayed registered in the process's fan-out and ticker
for good, a leak per attack. The safe outcome: the frame is ignored, the bad
``after`` counts as none, other sockets keep receiving events, and a socket
whose handler raises anyway is still unregistered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from shop_manager.live.consumer import ProductFeedConsumer
from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.ticker import ticker_for_running_loop
from shop_manager.models import Product, ProductEvent
from tests.helpers.sockets import connect, next_event, next_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

Open = Callable[..., Awaitable[WebsocketCommunicator]]


@pytest_asyncio.fixture
async def staff_session(staff_user: Any) -> Client:
    client = Client()
    await database_sync_to_async(client.force_login)(staff_user)
    return client


@pytest.fixture
def open_socket(staff_session: Client, disconnect_after: Any) -> Open:
    """Open staff sockets; each one still running is disconnected afterwards
    (one whose consumer raised has ended already; its test asserted that)."""

    async def open_(query: str = "") -> WebsocketCommunicator:
        socket = await connect(staff_session, query)
        disconnect_after(socket)
        return socket

    return open_


@database_sync_to_async
def create(name: str = "Tea") -> Product:
    return Product.objects.create(name=name, price=Decimal("3.50"), quantity=4)


@database_sync_to_async
def latest_id() -> int:
    return ProductEvent.objects.order_by("-id").values_list("id", flat=True).first()


def registered() -> tuple[set[Any], set[Any]]:
    """The sockets this process's fan-out and heartbeat ticker hold."""
    return (
        set(fanout_for_running_loop().recipients),
        set(ticker_for_running_loop().watchers),
    )


HOSTILE_FRAMES = {
    "nested_lists": "[" * 100_000,
    "nested_objects": '{"a":' * 100_000,
    "after_with_5000_digits": '{"type": "fetch", "after": ' + "9" * 5_000 + "}",
    "megabyte": '{"type": "fetch", "after": 1, "pad": "' + "x" * 1_000_000 + '"}',
}


@pytest.mark.parametrize("frame", HOSTILE_FRAMES.values(), ids=HOSTILE_FRAMES.keys())
async def test_a_hostile_frame_is_ignored_and_the_socket_lives_on(open_socket, frame):
    """Attack: a frame that made json.loads raise (or is huge). Safe: no reply,
    the socket stays open, still answers fetches and gets live events."""
    tea = await create()
    socket = await open_socket()
    await socket.receive_json_from()  # heartbeat
    await socket.send_to(text_data=frame)
    # Frames are handled in order: a reply to the attack would come first.
    await socket.send_json_to({"type": "fetch", "after": 0})
    batch, _ = await next_frame(socket, lambda f: f["type"] != "heartbeat")
    assert batch["type"] == "batch"
    assert [event["product"]["id"] for event in batch["events"]] == [tea.pk]
    await create("Coffee")
    assert (await next_event(socket))["action"] == "created"


async def test_other_sockets_keep_receiving_after_an_attack(open_socket):
    """Attack: one socket sends a nested frame. Safe: another socket of the same
    process still gets the next product event."""
    attacker, bystander = await open_socket(), await open_socket()
    await attacker.receive_json_from()
    await bystander.receive_json_from()
    await attacker.send_to(text_data="[" * 100_000)
    await create()
    assert (await next_event(bystander))["action"] == "created"
    # No reply to the attack came before the event, and the socket lives on.
    assert (await next_event(attacker))["action"] == "created"


@pytest.mark.parametrize(
    "query",
    [
        "?after=" + "9" * 5_000,
        "?after=" + "1" * 20,
        "?after=-1",
        "?after=1e9",
        "?after=%EF%BC%90%EF%BC%91",  # Fullwidth "01".
        "?after=",
        "?after=1&after=2",
        "?after=%00",
        "?after=%ED%A0%80",
    ],
    ids=[
        "5000_digits",
        "20_digits",
        "negative",
        "exponent",
        "fullwidth",
        "empty",
        "repeated",
        "nul",
        "lone_surrogate",
    ],
)
async def test_a_hostile_after_is_treated_as_none(open_socket, query):
    """Attack: an ``after`` that is not an id (int() raised on 5,000 digits).
    Safe: treated as no ``after``: a heartbeat with the latest id, as without
    one, and the socket is registered exactly once."""
    await create()
    socket = await open_socket(query)
    assert await socket.receive_json_from() == {
        "type": "heartbeat",
        "last_id": await latest_id(),
    }
    fanout, ticker = registered()
    assert (len(fanout), len(ticker)) == (1, 1)


async def test_a_hostile_after_leaves_nothing_registered(open_socket):
    """After the socket with a 5,000-digit ``after`` disconnects, the process
    holds no trace of it."""
    socket = await open_socket("?after=" + "9" * 5_000)
    await socket.receive_json_from()
    await socket.disconnect()
    assert registered() == (set(), set())


class Boom(Exception):
    """Stands for any bug in a handler."""


@pytest.fixture
def failing_send_batch(monkeypatch: pytest.MonkeyPatch) -> list[ProductFeedConsumer]:
    """Make the batch reply raise; return the consumers it raised in."""
    failed: list[ProductFeedConsumer] = []

    async def batch_text(self: ProductFeedConsumer, after: int) -> str:
        failed.append(self)
        raise Boom

    monkeypatch.setattr(ProductFeedConsumer, "batch_text", batch_text)
    return failed


async def test_a_raising_handler_still_unregisters_the_socket(
    open_socket, staff_user, failing_send_batch
):
    """Fault: a handler raises (here the batch reply, during the ``?after=``
    replay in connect()). Safe: the error reaches the server (which logs it
    and closes the socket), and the socket leaves the fan-out, the ticker and
    the fan-out's table of sessions all the same."""
    socket = await open_socket("?after=0")
    with pytest.raises(Boom):
        await socket.receive_output()
    assert registered() == (set(), set())
    [consumer] = failing_send_batch
    assert consumer.session is not None  # A logout would have named it.
    assert consumer.session not in fanout_for_running_loop().sessions


async def test_a_failing_fetch_is_logged_and_the_socket_stays(
    open_socket, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """Fault: answering a ``fetch`` raises (the database away, or a bug).
    Safe: it is logged, the socket stays open and registered (a fetch is
    answered beside the socket's reading, which must go on: uvicorn's
    keepalive needs the pongs), and the client's next fetch is answered."""
    real = ProductFeedConsumer.batch_text
    asked: list[int] = []

    async def batch_text(self: ProductFeedConsumer, after: int) -> str:
        asked.append(after)
        if len(asked) == 1:
            raise Boom
        return await real(self, after)

    monkeypatch.setattr(ProductFeedConsumer, "batch_text", batch_text)
    await create()
    socket = await open_socket()
    await socket.receive_json_from()  # heartbeat
    with caplog.at_level(logging.WARNING, logger="shop_manager.live.consumer"):
        await socket.send_json_to({"type": "fetch", "after": 0})
        deadline = time.monotonic() + 5
        while "Could not answer a dashboard fetch." not in caplog.text:
            assert time.monotonic() < deadline, "the failed fetch was not logged"
            await asyncio.sleep(0.01)

    await socket.send_json_to({"type": "fetch", "after": 0})
    while (reply := await socket.receive_json_from(timeout=5))["type"] != "batch":
        pass  # A heartbeat in between.
    assert [event["action"] for event in reply["events"]] == ["created"]
    fanout, ticker = registered()
    assert (len(fanout), len(ticker)) == (1, 1)


async def test_a_raising_handler_leaves_other_sockets_working(
    open_socket, failing_send_batch
):
    """Fault: one socket's handler raises. Safe: another socket still gets live
    events, and is the only one registered."""
    bystander = await open_socket()
    await bystander.receive_json_from()
    broken = await open_socket("?after=0")
    with pytest.raises(Boom):
        await broken.receive_output()
    await create()
    assert (await next_event(bystander))["action"] == "created"
    fanout, ticker = registered()
    assert (len(fanout), len(ticker)) == (1, 1)
