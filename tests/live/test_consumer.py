"""The dashboard socket protocol on the in-memory layer, through tests.asgi."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group, Permission

from shop_manager.live.consumer import CLOSE_FORBIDDEN, ProductFeedConsumer
from tests.helpers.products import create, event_ids, product_rows, update
from tests.helpers.sockets import (
    assert_no_event_queued,
    closed_with,
    connect,
    dashboard_socket,
    next_event,
    next_frame,
)
from tests.helpers.users import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# Who may connect -----------------------------------------------------------


async def test_staff_connects_and_is_told_the_latest_id(staff_user, disconnect_after):
    await create()
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    assert await socket.receive_json_from() == {
        "type": "heartbeat",
        "last_id": (await event_ids())[-1],
    }


async def test_superuser_connects(django_user_model):
    boss = await database_sync_to_async(django_user_model.objects.create_superuser)(
        "boss", password="pw"
    )
    socket = await connect(await login(boss))
    await socket.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "regular", "inactive_staff"])
async def test_who_may_not_watch_is_refused(
    who, regular_user, django_user_model, disconnect_after
):
    client = None
    if who == "regular":
        client = await login(regular_user)
    elif who == "inactive_staff":
        inactive = await database_sync_to_async(django_user_model.objects.create_user)(
            username="gone", password="x", is_staff=True, is_active=False
        )
        client = await login(inactive)
    socket = dashboard_socket(client)
    connected, _ = await socket.connect()
    disconnect_after(socket)
    assert not connected


async def test_a_cross_site_origin_is_refused(staff_user, disconnect_after):
    socket = dashboard_socket(await login(staff_user), origin=b"https://evil.example")
    connected, _ = await socket.connect()
    disconnect_after(socket)
    assert not connected


# Replay ----------------------------------------------------------------------


async def test_after_replays_exactly_the_missed_events_oldest_first(
    staff_user, disconnect_after
):
    tea = await create()
    for quantity in (5, 6, 7):
        await update(tea, quantity=quantity)
    ids = await event_ids()
    socket = await connect(await login(staff_user), f"?after={ids[1]}")
    disconnect_after(socket)
    batch = await socket.receive_json_from()
    assert batch["type"] == "batch"
    assert [e["id"] for e in batch["events"]] == ids[2:]
    assert [e["changes"]["quantity"] for e in batch["events"]] == [
        {"old": 5, "new": 6, "label": "quantity"},
        {"old": 6, "new": 7, "label": "quantity"},
    ]
    assert (batch["after"], batch["until"], batch["more"]) == (
        ids[1],
        ids[-1],
        False,
    )
    # Nothing else was replayed: the next change is the next frame.
    await create("Coffee")
    assert (await next_event(socket))["id"] == ids[-1] + 1


async def test_after_the_latest_id_replays_nothing(staff_user, disconnect_after):
    await create()
    latest = (await event_ids())[-1]
    socket = await connect(await login(staff_user), f"?after={latest}")
    disconnect_after(socket)
    assert await socket.receive_json_from() == {
        "type": "batch",
        "after": latest,
        "until": latest,
        "more": False,
        "events": [],
    }


async def test_replay_limit_bounds_a_batch_and_sets_more(
    staff_user, settings, disconnect_after
):
    settings.SHOP_MANAGER = {"REPLAY_LIMIT": 3}
    for n in range(5):
        await create(name=f"P{n}")
    ids = await event_ids()
    socket = await connect(await login(staff_user), "?after=0")
    disconnect_after(socket)
    first = await socket.receive_json_from()
    assert [e["id"] for e in first["events"]] == ids[:3]
    assert (first["until"], first["more"]) == (ids[2], True)
    await socket.send_json_to({"type": "fetch", "after": first["until"]})
    rest, _ = await next_frame(socket, lambda f: f["type"] != "heartbeat")
    assert rest["type"] == "batch"
    assert [e["id"] for e in rest["events"]] == ids[3:]
    assert (rest["until"], rest["more"]) == (ids[-1], False)


async def test_a_fetch_frame_fills_a_gap(staff_user, disconnect_after):
    tea = await create()
    await update(tea, quantity=8)
    ids = await event_ids()
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    await socket.receive_json_from()  # heartbeat
    await socket.send_json_to({"type": "fetch", "after": ids[0]})
    batch, _ = await next_frame(socket, lambda f: f["type"] != "heartbeat")
    assert batch["type"] == "batch"
    assert [e["id"] for e in batch["events"]] == ids[1:]


# Live events -----------------------------------------------------------------


async def test_a_live_event_has_the_documented_shape(staff_user, disconnect_after):
    tea = await create()
    client = await login(staff_user)
    socket = await connect(client)
    disconnect_after(socket)
    await socket.receive_json_from()  # heartbeat
    response = await database_sync_to_async(client.post)(
        "/products/tea/",
        {
            "name": "Tea",
            "price": "3.75",
            "cost_price": "0",
            "quantity": 9,
            "version": tea.version,
        },
    )
    assert response.status_code == 302
    event = await next_event(socket)
    assert set(event) == {
        "type",
        "id",
        "action",
        "time",
        "time_display",
        "actor",
        "product",
        "changes",
        "headline",
        "message",
        # 4 (at the default threshold of 5) → 9: low stock cleared.
        "alerts",
    }
    assert event["alerts"]["cleared"] == ["low_stock"]
    assert event["type"] == "event"
    assert event["id"] == (await event_ids())[-1]
    assert event["action"] == "updated"
    assert event["actor"] == "staff"
    assert event["time"].startswith("20")
    assert event["product"] == {
        "id": tea.pk,
        "name": "Tea",
        "slug": "tea",
        "url": "/products/tea/",
    }
    assert event["changes"] == {
        "price": {"old": "3.50", "new": "3.75", "label": "price"},
        "quantity": {"old": 4, "new": 9, "label": "quantity"},
    }
    assert event["headline"] == "Product “Tea” was updated"
    assert event["message"] == (
        "Product “Tea” was updated: price 3.50 → 3.75, quantity 4 → 9"
    )


async def test_every_socket_gets_each_live_event_once(staff_user, disconnect_after):
    client = await login(staff_user)
    sockets = [await connect(client), await connect(client)]
    disconnect_after(*sockets)
    for socket in sockets:
        await socket.receive_json_from()
    tea = await create()
    await database_sync_to_async(tea.delete)()
    for socket in sockets:
        created = await next_event(socket)
        deleted = await next_event(socket)
        assert (created["action"], deleted["action"]) == ("created", "deleted")
        assert deleted["id"] == created["id"] + 1
        assert deleted["product"]["url"] is None
        assert deleted["product"]["name"] == "Tea"
    # No copy of either follows: the next change is each socket's next event.
    await create("Coffee")
    for socket in sockets:
        assert (await next_event(socket))["id"] == deleted["id"] + 1


# Junk frames -----------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"text_data": "not json"},
        {"text_data": " "},
        {"text_data": json.dumps({"type": "delete", "id": 1})},
        {"text_data": json.dumps({"type": "fetch"})},
        {"text_data": json.dumps({"type": "fetch", "after": -1})},
        {"text_data": json.dumps({"type": "fetch", "after": 2**64})},
        {"text_data": json.dumps({"type": "fetch", "after": "1"})},
        {"text_data": json.dumps({"type": "fetch", "after": "one"})},
        {"text_data": json.dumps({"type": "fetch", "after": 1.5})},
        {"text_data": json.dumps({"type": "fetch", "after": None})},
        {"text_data": json.dumps({"type": "fetch", "after": False})},
        {"text_data": json.dumps([{"type": "fetch", "after": 0}])},
        {"text_data": json.dumps("fetch")},
        {"bytes_data": b"\x00\xff"},
        {"bytes_data": json.dumps({"type": "fetch", "after": 0}).encode()},
    ],
    ids=lambda frame: repr(frame)[:40],
)
async def test_junk_frames_get_no_reply_and_change_nothing(
    staff_user, frame, disconnect_after
):
    tea = await create()
    await update(tea, quantity=5)
    ids, rows = await event_ids(), await product_rows()
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    await socket.receive_json_from()  # heartbeat
    await socket.send_to(**frame)
    # The socket handles frames in order: a reply to the junk would come
    # before the answer to this fetch.
    await socket.send_json_to({"type": "fetch", "after": ids[0]})
    batch, _ = await next_frame(socket, lambda f: f["type"] != "heartbeat")
    assert batch["type"] == "batch"
    assert [e["id"] for e in batch["events"]] == ids[1:]
    assert (await event_ids(), await product_rows()) == (ids, rows)


@pytest.mark.parametrize(
    "query",
    ["?after=-1", "?after=abc", "?after=1e3", "?after=+1", "?after=%201", "?x=1"],
)
async def test_a_junk_after_parameter_is_treated_as_none(
    staff_user, query, disconnect_after
):
    await create()
    socket = await connect(await login(staff_user), query)
    disconnect_after(socket)
    frame = await socket.receive_json_from()
    assert frame == {"type": "heartbeat", "last_id": (await event_ids())[-1]}


# Heartbeat -------------------------------------------------------------------


async def test_heartbeats_carry_the_latest_id(staff_user, settings, disconnect_after):
    settings.SHOP_MANAGER = {
        "HEARTBEAT_SECONDS": 0.2,
        # The change reaches nobody live, as if its message were lost.
        "NOTIFIERS": {
            "default": {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}
        },
    }
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    assert await socket.receive_json_from() == {"type": "heartbeat", "last_id": 0}
    await create()
    latest = (await event_ids())[-1]
    seen = []
    while latest not in seen:
        frame = await socket.receive_json_from()
        assert frame["type"] == "heartbeat"
        seen.append(frame["last_id"])


# Losing access ---------------------------------------------------------------


async def test_logout_closes_that_sessions_socket_only(staff_user, disconnect_after):
    leaving, staying = await login(staff_user), await login(staff_user)
    closing, open_one = await connect(leaving), await connect(staying)
    disconnect_after(closing, open_one)
    await closing.receive_json_from()
    await open_one.receive_json_from()
    await database_sync_to_async(leaving.logout)()
    assert await closed_with(closing) == CLOSE_FORBIDDEN
    await create()
    # Still open: it gets the next change (a close would fail the read).
    assert (await next_event(open_one))["action"] == "created"


@pytest.mark.parametrize("field", ["is_active", "is_staff"])
async def test_deactivation_or_losing_staff_closes_the_socket(
    staff_user, field, disconnect_after
):
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    await socket.receive_json_from()
    setattr(staff_user, field, False)
    await database_sync_to_async(staff_user.save)()
    assert await closed_with(socket) == CLOSE_FORBIDDEN


async def test_revoking_one_user_leaves_others_connected(
    staff_user, django_user_model, disconnect_after
):
    other = await database_sync_to_async(django_user_model.objects.create_user)(
        username="other", password="x", is_staff=True
    )
    mine, theirs = (
        await connect(await login(staff_user)),
        await connect(await login(other)),
    )
    disconnect_after(mine, theirs)
    await mine.receive_json_from()
    await theirs.receive_json_from()
    other.is_staff = False
    await database_sync_to_async(other.save)()
    assert await closed_with(theirs) == CLOSE_FORBIDDEN
    await create()
    assert (await next_event(mine))["action"] == "created"


@database_sync_to_async
def join_watchers(user: Any) -> Group:
    group = Group.objects.create(name="Watchers")
    group.permissions.add(Permission.objects.get(codename="watch_dashboard"))
    user.groups.add(group)
    return group


@pytest.mark.parametrize(
    "how", ["group_permission", "membership", "reverse_membership", "group_deleted"]
)
async def test_losing_watch_dashboard_through_a_group_closes_the_socket(
    settings, regular_user, how, disconnect_after
):
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    group = await join_watchers(regular_user)
    socket = await connect(await login(regular_user))

    @database_sync_to_async
    def revoke() -> None:
        if how == "group_permission":
            group.permissions.clear()
        elif how == "membership":
            regular_user.groups.remove(group)
        elif how == "reverse_membership":
            group.user_set.remove(regular_user)
        else:
            group.delete()

    disconnect_after(socket)
    await socket.receive_json_from()
    await revoke()
    assert await closed_with(socket) == CLOSE_FORBIDDEN


async def test_losing_a_direct_permission_closes_the_socket(
    settings, regular_user, disconnect_after
):
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    permission = await database_sync_to_async(Permission.objects.get)(
        codename="watch_dashboard"
    )
    await database_sync_to_async(regular_user.user_permissions.add)(permission)
    socket = await connect(await login(regular_user))
    disconnect_after(socket)
    await socket.receive_json_from()
    await database_sync_to_async(permission.user_set.remove)(regular_user)
    assert await closed_with(socket) == CLOSE_FORBIDDEN


async def test_the_periodic_recheck_catches_a_queryset_update(
    settings, staff_user, django_user_model, disconnect_after
):
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.1, "REVALIDATE_SECONDS": 0.1}
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    await socket.receive_json_from()
    await database_sync_to_async(
        django_user_model.objects.filter(pk=staff_user.pk).update
    )(is_staff=False)
    assert await closed_with(socket) == CLOSE_FORBIDDEN


async def test_a_closed_socket_gets_no_more_events(staff_user, disconnect_after):
    client = await login(staff_user)
    socket, bystander = await connect(client), await connect(await login(staff_user))
    disconnect_after(socket, bystander)
    await socket.receive_json_from()
    await bystander.receive_json_from()
    await database_sync_to_async(client.logout)()
    assert await closed_with(socket) == CLOSE_FORBIDDEN
    await create()
    assert (await next_event(bystander))["action"] == "created"
    assert_no_event_queued(socket)


async def test_a_socket_revoked_twice_is_closed_once():
    """A logout message and a re-check pass may both revoke the same socket."""
    consumer = ProductFeedConsumer()
    closes: list[int | None] = []

    async def close(code: int | None = None, reason: str | None = None) -> None:
        closes.append(code)

    async def disconnect(code: int) -> None:
        pass

    consumer.close = close  # type: ignore[method-assign]
    consumer.disconnect = disconnect  # type: ignore[method-assign]
    await consumer.revoke()
    await consumer.revoke()
    assert closes == [CLOSE_FORBIDDEN]


async def test_a_layer_that_fails_before_naming_the_channel_surfaces_its_own_error(
    staff_user, monkeypatch
):
    """The channel layer fails while Channels asks it for the socket's channel
    (Redis gone at that moment): the server sees that error, not one from the
    consumer's own cleanup, and nothing stays registered."""
    from channels.layers import get_channel_layer

    async def refuse(self: Any, prefix: str = "specific") -> str:
        raise ConnectionError("layer down")

    # Whichever layer this run uses (in-memory, or Redis in the services envs).
    # Not raising: the pub/sub layer's class has no new_channel of its own (its
    # instances proxy it to a per-loop layer), and a class attribute wins.
    monkeypatch.setattr(type(get_channel_layer()), "new_channel", refuse, raising=False)
    socket = dashboard_socket(await login(staff_user))
    with pytest.raises(ConnectionError, match="layer down"):
        await socket.connect()
    from shop_manager.live.fanout import fanout_for_running_loop
    from shop_manager.live.ticker import ticker_for_running_loop

    assert not fanout_for_running_loop().recipients
    assert not ticker_for_running_loop().watchers
