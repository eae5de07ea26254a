"""Who is editing: sockets on a product's edit form name each other, live,
and drop off when they leave or stop being announced."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async

from shop_manager.live.presence import Presence
from shop_manager.live.protocol import (
    RENEWAL_BATCH,
    PresenceUpdate,
    parse_presence_frame,
    parse_presence_message,
    parse_presence_updates,
    presence_message,
    presence_renewals,
)
from tests.helpers.products import create
from tests.helpers.sockets import connect, next_frame
from tests.helpers.users import login

pytestmark = pytest.mark.django_db(transaction=True)


def presence_of(product: int):
    return lambda frame: frame["type"] == "presence" and frame["product"] == product


@pytest.fixture
def bea(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        username="bea", first_name="Bea", last_name="Brunner", is_staff=True
    )


async def on_form(user: Any, product: int, disconnect_after: Any) -> Any:
    socket = await connect(await login(user))
    disconnect_after(socket)
    await socket.receive_json_from()  # The opening heartbeat.
    await socket.send_json_to({"type": "presence", "product": product})
    return socket


@pytest.mark.asyncio
async def test_editors_of_a_product_see_each_other_and_who_leaves(
    staff_user, bea, disconnect_after
):
    tea = await create("Tea")
    mine = await on_form(staff_user, tea.pk, disconnect_after)
    frame, _ = await next_frame(mine, presence_of(tea.pk))
    assert frame == {"type": "presence", "product": tea.pk, "editors": []}

    theirs = await on_form(bea, tea.pk, disconnect_after)
    frame, _ = await next_frame(mine, presence_of(tea.pk))
    assert frame["editors"] == ["Bea Brunner"]
    frame, _ = await next_frame(theirs, lambda f: f.get("editors") == ["staff"])
    assert frame["product"] == tea.pk

    await theirs.disconnect()
    frame, _ = await next_frame(mine, presence_of(tea.pk))
    assert frame["editors"] == []


@pytest.mark.asyncio
async def test_only_that_products_editors_are_told(staff_user, bea, disconnect_after):
    tea, coffee = await create("Tea"), await create("Coffee")
    on_tea = await on_form(staff_user, tea.pk, disconnect_after)
    await next_frame(on_tea, presence_of(tea.pk))
    watcher = await connect(await login(staff_user))
    disconnect_after(watcher)
    await on_form(bea, coffee.pk, disconnect_after)
    # A change after it shows the other two sockets were told nothing.
    coffee.quantity += 1
    await database_sync_to_async(coffee.save)()
    _, before = await next_frame(on_tea, lambda f: f["type"] == "event")
    assert [f for f in before if f["type"] == "presence"] == []
    _, before = await next_frame(watcher, lambda f: f["type"] == "event")
    assert [f for f in before if f["type"] == "presence"] == []


@pytest.mark.asyncio
async def test_moving_to_another_form_leaves_the_first(
    staff_user, bea, disconnect_after
):
    tea, coffee = await create("Tea"), await create("Coffee")
    mine = await on_form(staff_user, tea.pk, disconnect_after)
    theirs = await on_form(bea, tea.pk, disconnect_after)
    await next_frame(mine, lambda f: f.get("editors") == ["Bea Brunner"])
    await theirs.send_json_to({"type": "presence", "product": coffee.pk})
    await next_frame(mine, lambda f: f.get("editors") == [])


@pytest.mark.asyncio
async def test_an_editor_no_longer_announced_expires(settings):
    """A process that died announces nothing more: its editors drop off
    TTL_TICKS heartbeats after their last announcement."""
    delivered: list[dict[str, Any]] = []

    class Editor:
        def deliver(self, text: str) -> None:
            delivered.append(json.loads(text))

    presence = Presence()
    await presence.enter(Editor(), 7, "staff")
    presence.heard_update(PresenceUpdate(7, "elsewhere", "Bea Brunner", left=False))
    assert delivered[-1]["editors"] == ["Bea Brunner"]
    await presence.tick()  # Not yet expired: nothing new.
    assert delivered[-1]["editors"] == ["Bea Brunner"]
    presence.heard[7]["elsewhere"].expires = time.monotonic() - 1
    await presence.tick()
    assert delivered[-1]["editors"] == []
    # This process's own editor is never expired by its own ticks.
    assert presence.names(7, besides="") == ["staff"]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "not json",
        '{"type": "presence"}',
        '{"type": "presence", "product": "3"}',
        '{"type": "presence", "product": -1}',
        '{"type": "presence", "product": true}',
        '{"type": "fetch", "after": 3}',
        '{"type": "presence", "product": 3, "pad": "' + "x" * 1100 + '"}',
    ],
)
def test_a_presence_frame_is_one_product_id_or_ignored(text):
    assert parse_presence_frame(text) is None


def test_presence_frames_and_messages_round_trip():
    assert parse_presence_frame('{"type": "presence", "product": 3}') == 3
    message = presence_message(3, "k", "Bea" * 200, left=True)
    update = parse_presence_message(message)
    assert update is not None
    assert (update.product, update.key, update.left) == (3, "k", True)
    assert len(update.name) <= 301
    assert parse_presence_message({"type": "presence.update", "product": "3"}) is None


@pytest.mark.asyncio
async def test_a_broken_channel_layer_costs_the_announcements_not_the_editor(
    monkeypatch, caplog
):
    class BrokenLayer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            raise ConnectionError("Redis is down")

    monkeypatch.setattr("shop_manager.live.presence.get_layer", BrokenLayer)
    delivered: list[str] = []

    class Editor:
        def deliver(self, text: str) -> None:
            delivered.append(text)

    presence = Presence()
    editor = Editor()
    await presence.enter(editor, 7, "staff")
    await presence.tick()
    await presence.leave(editor)
    assert json.loads(delivered[0]) == {"type": "presence", "product": 7, "editors": []}
    assert presence.local == {}
    assert "Could not announce" in caplog.text


class Form:
    """An editor socket that keeps the presence frames it was sent."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def deliver(self, text: str) -> None:
        self.frames.append(json.loads(text))


@pytest.mark.asyncio
async def test_a_tick_renews_many_editors_in_few_messages_every_process_hears(
    monkeypatch,
):
    """250 forms open on one process: its tick is three channel-layer
    messages (one per editor did not fit in a heartbeat at 1,000 forms), and
    another process hearing them keeps every one of those editors."""
    sent: list[dict[str, Any]] = []

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            sent.append(message)

    monkeypatch.setattr("shop_manager.live.presence.get_layer", Layer)
    here = Presence()
    for n in range(250):
        await here.enter(Form(), n % 20, f"Editor {n}")
    sent.clear()

    await here.tick()

    assert len(sent) == 3 == -(-250 // RENEWAL_BATCH)
    elsewhere = Presence()
    watcher = Form()
    await elsewhere.enter(watcher, 7, "Watcher")
    for message in sent:
        for update in parse_presence_updates(message):
            elsewhere.heard_update(update)
    expected = sorted(f"Editor {n}" for n in range(250) if n % 20 == 7)
    assert watcher.frames[-1]["editors"] == expected
    assert sum(len(entries) for entries in elsewhere.heard.values()) == 251


def test_renewals_and_single_updates_parse_alike_and_junk_is_skipped():
    [renewal] = presence_renewals([(3, "k", "Bea" * 200), (4, "j", "Ann")])
    assert parse_presence_updates(renewal) == [
        PresenceUpdate(3, "k", ("Bea" * 200)[:301], left=False),
        PresenceUpdate(4, "j", "Ann", left=False),
    ]
    assert parse_presence_updates(presence_message(5, "x", "Cy", left=True)) == [
        PresenceUpdate(5, "x", "Cy", left=True)
    ]
    junk = {
        "type": "presence.update",
        "editors": [[1, "a"], ["2", "b", "c"], 7, [3, "d", "Di"]],
    }
    assert parse_presence_updates(junk) == [PresenceUpdate(3, "d", "Di", left=False)]
    assert parse_presence_updates({"type": "presence.update", "editors": "x"}) == []
