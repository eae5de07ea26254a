"""The latest id a socket starting "from now" is told: from the process's
fan-out while it has listened without a break, from the log otherwise, and
never older than an event that socket could have missed."""

from __future__ import annotations

from typing import Any

import pytest

from shop_manager.live import consumer as consumer_module
from shop_manager.live import fanout
from shop_manager.live.feed import latest_event_id
from tests.helpers.products import create, event_ids
from tests.helpers.sockets import connect, next_event
from tests.helpers.users import login

pytestmark = pytest.mark.asyncio


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The latest ids the consumer read from the log, one per query."""
    made: list[int] = []

    def counted() -> int:
        latest = latest_event_id()
        made.append(latest)
        return latest

    monkeypatch.setattr(consumer_module, "latest_event_id", counted)
    return made


@pytest.mark.django_db(transaction=True)
async def test_a_socket_starting_now_is_told_events_relayed_since_the_last_read(
    staff_user: Any, queries: list[int], disconnect_after: Any
) -> None:
    client = await login(staff_user)
    first = await connect(client)
    disconnect_after(first)
    await first.receive_json_from()  # Its opening heartbeat.
    await create("Tea")
    await next_event(first)  # Relayed.
    second = await connect(client)
    disconnect_after(second)
    [tea] = await event_ids()
    assert await second.receive_json_from() == {"type": "heartbeat", "last_id": tea}
    assert queries == [0]  # Only the first socket asked the log.


@pytest.mark.django_db(transaction=True)
async def test_after_nobody_listened_the_next_socket_asks_the_log(
    staff_user: Any, queries: list[int]
) -> None:
    client = await login(staff_user)
    socket = await connect(client)
    await socket.receive_json_from()
    await socket.disconnect()  # The process stops listening.
    await create("Tea")  # Published to no one here.
    socket = await connect(client)
    [tea] = await event_ids()
    assert await socket.receive_json_from() == {"type": "heartbeat", "last_id": tea}
    await socket.disconnect()
    assert queries == [0, tea]


class Listener:
    user_pk = 1
    session_key = None
    sees_costs = True
    valid_at = 0

    def deliver(self, text: str) -> None:
        pass


async def test_a_read_begun_before_a_break_in_listening_is_not_kept(
    settings: Any,
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    hub = fanout.LocalFanout()
    listener = Listener()
    await hub.join(listener)
    epoch = hub.epoch
    hub.note_latest(5, epoch)
    assert hub.latest_id == 5
    hub.note_latest(3, epoch)  # Ids only grow.
    assert hub.latest_id == 5
    await hub.leave(listener)
    assert hub.latest_id is None
    await hub.join(listener)
    hub.note_latest(9, epoch)  # Read before the process stopped listening.
    assert hub.latest_id is None
    hub.note_latest(9, hub.epoch)
    assert hub.latest_id == 9
    await hub.leave(listener)
