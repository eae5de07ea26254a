"""What one staff member's sockets can make the server hold is bounded.

Attack (issue 13, hole 9): 300 ``fetch`` frames of 29 bytes each, then never
reading, made a server hold 211 MiB more (the outbox counted frames, not
bytes, and every fetch queued up to 500 events); and nothing limited how many
sockets one user opens. Safe: the outbox is bounded in size, a socket has one
gap fill in progress at a time, and a user's sockets are capped
(``SOCKETS_PER_USER``, 20 by default; the next one is closed with 4429). A
client that is merely slow still ends up with every event, through the gap
fill.

The stalled client is driven on the test project's real routing with an ASGI
``send`` that waits while the client "does not read", as uvicorn's does once
a connection's buffer is full.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import tracemalloc
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.test import Client, override_settings
from redis import asyncio as aioredis

from shop_manager.live import consumer as consumer_module
from shop_manager.live.admission import Admission, batch_for
from shop_manager.live.consumer import CLOSE_TOO_MANY_SOCKETS
from shop_manager.live.feed import latest_event_id
from shop_manager.live.quota import SocketQuota, quota_for_running_loop
from shop_manager.models import Product, ProductEvent
from tests.asgi import application
from tests.helpers.layers import REDIS_LAYERS, channel_layers
from tests.helpers.sockets import dashboard_socket
from tests.helpers.users import login
from tests.helpers.waiting import HANG_BOUND, eventually_async

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class StalledClient:
    """A dashboard socket whose client reads only while ``reading`` is set:
    otherwise the server's send of a frame waits."""

    def __init__(self, client: Client) -> None:
        session = client.cookies["sessionid"].value
        self.scope = {
            "type": "websocket",
            "path": "/ws/products/",
            "query_string": b"",
            "headers": [
                (b"origin", b"http://testserver"),
                (b"cookie", f"sessionid={session}".encode()),
            ],
            "subprotocols": [],
        }
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.output: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reading = asyncio.Event()
        self.reading.set()
        # How often the server has asked for the next client message: it has
        # finished handling every message before the last ask.
        self.asks = 0
        self.app: asyncio.Task[None] | None = None

    async def _receive(self) -> dict[str, Any]:
        self.asks += 1
        return await self.incoming.get()

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            await self.reading.wait()
        await self.output.put(message)

    async def open(self) -> dict[str, Any]:
        """Connect; return the opening frame."""
        self.app = asyncio.get_running_loop().create_task(
            application(self.scope, self._receive, self._send)
        )
        await self.incoming.put({"type": "websocket.connect"})
        accepted = await asyncio.wait_for(self.output.get(), HANG_BOUND)
        assert accepted["type"] == "websocket.accept", accepted
        return await self.next_frame()

    async def next_frame(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.output.get(), HANG_BOUND)
        assert message["type"] == "websocket.send", message
        frame: dict[str, Any] = json.loads(message["text"])
        return frame

    async def send_and_wait(self, frame: dict[str, Any]) -> None:
        """Send a frame and wait until the server has handled it."""
        asks = self.asks
        await self.incoming.put(
            {"type": "websocket.receive", "text": json.dumps(frame)}
        )

        def asked_again() -> bool:
            assert self.app is not None
            assert not self.app.done(), self.app
            return self.asks > asks

        await eventually_async(asked_again, what="the server to ask for more")

    async def close(self) -> None:
        self.reading.set()
        if self.app is not None and not self.app.done():
            await self.incoming.put({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait_for(self.app, HANG_BOUND)


@pytest_asyncio.fixture
async def stalled(staff_user: Any) -> Any:
    clients: list[StalledClient] = []

    async def open_one() -> StalledClient:
        socket = StalledClient(await login(staff_user))
        clients.append(socket)
        assert (await socket.open())["type"] == "heartbeat"
        return socket

    yield open_one
    for socket in clients:
        await socket.close()


@database_sync_to_async
def log_products(count: int) -> None:
    for n in range(count):
        Product.objects.create(
            name=f"Product {n:04d} with a name long enough to count",
            price=Decimal("3.50"),
            quantity=n,
        )


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_fetches_from_a_client_that_does_not_read_hold_bounded_memory(
    stalled, settings
):
    """Attack: fetch the whole log 300 times, never reading a reply. Safe:
    one reply is in progress; the other fetches wait for it, holding nothing
    (the second 150 fetches add less than one reply's worth)."""
    # No heartbeat comes due while a loaded machine runs the 300 fetches:
    # it would queue between the replies this test counts.
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 3600}
    await log_products(150)
    socket = await stalled()
    reply = await database_sync_to_async(batch_for)(
        0, None, None, Admission(10**9, True)
    )
    assert reply is not None
    reply_size = len(reply.text)
    socket.reading.clear()
    tracemalloc.start()
    try:
        for _ in range(150):
            await socket.send_and_wait({"type": "fetch", "after": 0})
        first = traced()
        for _ in range(150):
            await socket.send_and_wait({"type": "fetch", "after": 0})
        second = traced()
    finally:
        tracemalloc.stop()
    assert second - first < reply_size, (
        f"150 more fetches held {second - first} more bytes; one reply is {reply_size}"
    )
    # Once the client reads, it gets the reply in progress and one more (the
    # fetches that waited, answered together), then nothing else.
    socket.reading.set()
    batches = [await socket.next_frame(), await socket.next_frame()]
    assert [frame["type"] for frame in batches] == ["batch", "batch"]
    await socket.send_and_wait({"type": "fetch", "after": 10**9})
    assert (await socket.next_frame())["events"] == []


async def test_a_slow_client_still_gets_every_event_through_the_gap_fill(
    stalled, settings, monkeypatch
):
    """A client that stops reading while changes keep coming has frames
    dropped past the outbox's bound; once it reads again, the heartbeat shows
    it the gap, it fetches, and it holds every event."""
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.1}
    monkeypatch.setattr(consumer_module, "OUTBOX_LIMIT", 4000)
    socket = await stalled()
    synced = await database_sync_to_async(latest_event_id)()
    socket.reading.clear()
    await log_products(40)  # Far more than 4,000 characters of events.
    latest = await database_sync_to_async(latest_event_id)()
    wanted = set(
        await database_sync_to_async(
            lambda: list(
                ProductEvent.objects.filter(id__gt=synced).values_list("id", flat=True)
            )
        )()
    )
    socket.reading.set()
    seen: list[int] = []
    fetching = False
    while synced < latest:
        message = await socket.next_frame()
        frames = message["frames"] if message["type"] == "frames" else [message]
        for frame in frames:
            if frame["type"] == "event":
                seen.append(frame["id"])
                if frame["id"] == synced + 1:
                    synced = frame["id"]
            elif frame["type"] == "batch":
                seen.extend(event["id"] for event in frame["events"])
                synced = max(synced, frame["until"])
                fetching = False
            last = frame.get("last_id", frame.get("id", 0))
            if last > synced and not fetching:
                fetching = True
                await socket.incoming.put(
                    {
                        "type": "websocket.receive",
                        "text": json.dumps({"type": "fetch", "after": synced}),
                    }
                )
    assert set(seen) == wanted


async def test_the_outbox_is_bounded_in_size_not_in_frames(caplog, monkeypatch):
    monkeypatch.setattr(consumer_module, "OUTBOX_LIMIT", 10)
    caplog.set_level(logging.INFO, logger="shop_manager.live.consumer")
    consumer = consumer_module.ProductFeedConsumer()
    consumer.deliver("x" * 25)  # Always taken into an empty outbox.
    consumer.deliver("y")
    assert consumer.outbox == ["x" * 25]
    # As the writer leaves it once it has written everything out.
    consumer.outbox, consumer.outbox_size, consumer.overflowed = [], 0, False
    for text in ("12345", "6789", "0", "dropped"):
        consumer.deliver(text)
    assert consumer.outbox == ["12345", "6789", "0"]
    assert consumer.outbox_size == 10
    assert caplog.text.count("is behind; dropping frames") == 2  # Once per episode.


# The number of sockets per user -------------------------------------------------


@pytest.mark.usefixtures("any_layer")
async def test_the_21st_socket_of_a_user_is_closed_with_4429(staff_user, admin_user):
    """Attack: one staff account opens socket after socket. Safe: the 21st
    (SOCKETS_PER_USER, 20 by default) is accepted and closed at once with
    4429, before any frame; closing one lets the next in; other users are
    not affected."""
    client = await login(staff_user)
    sockets = []
    for _ in range(20):
        socket = dashboard_socket(client)
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from())["type"] == "heartbeat"
        sockets.append(socket)
    try:
        extra = dashboard_socket(client)
        assert (await extra.connect())[0]
        closed = await extra.receive_output()
        assert closed == {
            "type": "websocket.close",
            "code": CLOSE_TOO_MANY_SOCKETS,
            "reason": "Too many dashboard sockets.",
        }

        admins = dashboard_socket(await login(admin_user))
        assert (await admins.connect())[0]
        assert (await admins.receive_json_from())["type"] == "heartbeat"
        await admins.disconnect()

        await sockets.pop().disconnect()
        again = dashboard_socket(client)
        assert (await again.connect())[0]
        assert (await again.receive_json_from())["type"] == "heartbeat"
        sockets.append(again)
    finally:
        for socket in sockets:
            await socket.disconnect()
    assert quota_for_running_loop().held == {}


@pytest.fixture(params=REDIS_LAYERS, ids=["redis", "redis-pubsub"])
def redis_layer(request: pytest.FixtureRequest) -> Any:
    """Each channels-redis layer, on a prefix of its own."""
    with override_settings(CHANNEL_LAYERS=channel_layers(request.param)):
        yield


@pytest.mark.redis
@pytest.mark.usefixtures("redis_layer")
async def test_the_limit_counts_the_users_sockets_on_every_process(staff_user):
    """With a channels-redis layer, places are counted in Redis: another
    server process (here a second quota, as another process would hold)
    holding 18 of the user's places leaves this process two."""
    other_process = SocketQuota()
    places = [await other_process.take(staff_user.pk) for _ in range(18)]
    assert all(places)
    client = await login(staff_user)
    opened = []
    try:
        for _ in range(2):
            socket = dashboard_socket(client)
            assert (await socket.connect())[0]
            assert (await socket.receive_json_from())["type"] == "heartbeat"
            opened.append(socket)
        refused = dashboard_socket(client)
        assert (await refused.connect())[0]
        assert (await refused.receive_output())["code"] == CLOSE_TOO_MANY_SOCKETS
    finally:
        for socket in opened:
            await socket.disconnect()
        for place in places:
            await other_process.release(place)


def places_key(settings: Any, user_pk: Any) -> tuple[Any, str]:
    """A Redis client, and the key that holds the user's places."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    key = f"{config['prefix']}:shop_manager:sockets:{user_pk}"
    return aioredis.Redis.from_url(settings.REDIS_URL), key


@pytest.mark.redis
@pytest.mark.usefixtures("redis_layer")
async def test_places_of_a_process_that_died_expire_and_live_ones_are_renewed(
    settings, staff_user
):
    """A process killed with its sockets open never gives their places back:
    they expire after three heartbeats. A living process renews its places at
    every heartbeat."""
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.2, "SOCKETS_PER_USER": 2}
    dead, alive = SocketQuota(), SocketQuota()
    redis, key = places_key(settings, staff_user.pk)
    try:
        assert await dead.take(staff_user.pk)
        kept = await alive.take(staff_user.pk)
        assert kept
        assert await alive.take(staff_user.pk) is None  # 2 of 2 taken.
        before = await redis.zscore(key, kept)

        async def renewed() -> bool:
            # Redis' clock moves on by microseconds between two calls.
            await alive.renew()
            return bool(await redis.zscore(key, kept) > before)

        await eventually_async(renewed, what="the place to be renewed")

        # The dead process's place expires (0.6 s); the living one's is
        # renewed meanwhile, as its ticker would.
        taken: list[str] = []

        async def dead_place_expired() -> bool:
            await alive.renew()
            place = await alive.take(staff_user.pk)
            if place:
                taken.append(place)
            return bool(place)

        await eventually_async(
            dead_place_expired, what="the dead process's place to expire"
        )
        [place] = taken
        assert await redis.zscore(key, kept) is not None
        await alive.release(place)
        await alive.release(kept)
    finally:
        await dead._close()
        await redis.aclose()


async def test_a_redis_that_does_not_answer_lets_the_socket_in_uncounted(
    settings, caplog
):
    """The limit guards memory: a Redis hiccup must not refuse dashboards."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    quota = SocketQuota()
    assert await quota.take(1) == ""
    assert quota.held == {}
    assert "letting this one in uncounted" in caplog.text
