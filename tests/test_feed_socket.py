"""The dashboard socket on the real routing: access, replay, live, protocol."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, Permission
from django.test import Client

from shop_manager.consumers import CLOSE_FORBIDDEN
from shop_manager.models import Product, ProductEvent
from tests.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://testserver")


async def login(user: Any) -> Client:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client


async def open_socket(
    client: Client | None, query: str = "", origin: tuple[bytes, bytes] = ORIGIN
) -> tuple[WebsocketCommunicator, bool]:
    headers = [origin]
    if client is not None:
        headers.append(
            (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
        )
    communicator = WebsocketCommunicator(
        application, f"/ws/products/{query}", headers=headers
    )
    connected, _ = await communicator.connect()
    return communicator, connected


@database_sync_to_async
def create(name: str = "Tea", **fields: Any) -> Product:
    fields.setdefault("price", Decimal("3.50"))
    fields.setdefault("quantity", 4)
    return Product.objects.create(name=name, **fields)


@database_sync_to_async
def change(product: Product, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(product, name, value)
    product.save()


async def test_staff_gets_replay_then_live_events(staff_user):
    tea = await create()
    client = await login(staff_user)
    socket, connected = await open_socket(client, "?after=0")
    assert connected
    batch = await socket.receive_json_from()
    assert batch["type"] == "batch"
    assert [e["action"] for e in batch["events"]] == ["created"]
    assert (batch["until"], batch["more"]) == (batch["events"][-1]["id"], False)

    await change(tea, quantity=9)
    event = await socket.receive_json_from()
    assert event["type"] == "event"
    assert event["id"] == batch["until"] + 1
    assert event["message"] == "Product 'Tea' was updated: quantity 4 → 9"
    assert event["changes"] == {"quantity": {"old": 4, "new": 9}}
    assert event["product"] == {
        "id": tea.pk,
        "name": "Tea",
        "slug": "tea",
        "url": "/products/tea/",
    }
    assert event["actor"] is None
    assert set(event) >= {"time", "action"}
    await socket.disconnect()


@database_sync_to_async
def event_ids() -> list[int]:
    return list(ProductEvent.objects.order_by("id").values_list("id", flat=True))


async def test_replay_sends_only_what_the_client_missed_in_order(staff_user, settings):
    settings.SHOP_MANAGER = {"REPLAY_LIMIT": 2}
    tea = await create()
    for quantity in (5, 6, 7):
        await change(tea, quantity=quantity)
    ids = await event_ids()
    client = await login(staff_user)
    socket, _ = await open_socket(client, f"?after={ids[0]}")
    first = await socket.receive_json_from()
    assert [e["id"] for e in first["events"]] == ids[1:3]
    assert [e["changes"]["quantity"]["new"] for e in first["events"]] == [5, 6]
    assert first["more"] is True
    await socket.send_json_to({"type": "fetch", "after": first["until"]})
    rest = await socket.receive_json_from()
    assert [e["id"] for e in rest["events"]] == ids[3:]
    assert rest["more"] is False
    await socket.disconnect()


async def test_connect_without_after_reports_latest_id(staff_user):
    await create()
    socket, _ = await open_socket(await login(staff_user))
    latest = (await event_ids())[-1]
    assert await socket.receive_json_from() == {"type": "heartbeat", "last_id": latest}
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        json.dumps({"type": "delete_everything"}),
        json.dumps({"type": "fetch", "after": -1}),
        json.dumps({"type": "fetch", "after": 2**70}),
        json.dumps({"type": "fetch", "after": "abc"}),
        json.dumps({"type": "fetch", "after": True}),
        json.dumps(["fetch", 0]),
    ],
)
async def test_junk_frames_are_ignored(staff_user, frame):
    await create()
    latest = (await event_ids())[-1]
    socket, _ = await open_socket(await login(staff_user), f"?after={latest}")
    assert (await socket.receive_json_from())["events"] == []
    await socket.send_to(text_data=frame)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert await socket.receive_nothing(timeout=0.2)
    assert await database_sync_to_async(Product.objects.count)() == 1
    # Still usable afterwards.
    await socket.send_json_to({"type": "fetch", "after": latest - 1})
    assert [e["id"] for e in (await socket.receive_json_from())["events"]] == [latest]
    await socket.disconnect()


async def test_heartbeat_carries_latest_id(staff_user, settings):
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.1}
    socket, _ = await open_socket(await login(staff_user))
    assert (await socket.receive_json_from())["type"] == "heartbeat"
    # Logged without a notification reaching this socket (as if it was lost).
    settings.SHOP_MANAGER = {
        "HEARTBEAT_SECONDS": 0.1,
        "NOTIFIERS": {
            "default": {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}
        },
    }
    await create()
    latest = (await event_ids())[-1]
    frame = await socket.receive_json_from(timeout=2)
    while frame["last_id"] != latest:  # Ticks from before the change.
        frame = await socket.receive_json_from(timeout=2)
    assert frame == {"type": "heartbeat", "last_id": latest}
    await socket.disconnect()


async def test_who_may_not_watch_is_refused(regular_user, django_user_model):
    inactive = await database_sync_to_async(django_user_model.objects.create_user)(
        username="gone", password="x", is_staff=True, is_active=False
    )
    for client in (None, await login(regular_user), await login(inactive)):
        socket, connected = await open_socket(client)
        assert not connected
        await socket.disconnect()


async def test_cross_site_origin_is_refused(staff_user):
    socket, connected = await open_socket(
        await login(staff_user), origin=(b"origin", b"https://evil.example")
    )
    assert not connected
    await socket.disconnect()


async def assert_closed_forbidden(socket: WebsocketCommunicator) -> None:
    while True:
        frame = await socket.receive_output(timeout=2)
        if frame["type"] == "websocket.close":
            assert frame["code"] == CLOSE_FORBIDDEN
            return


async def test_logout_closes_that_sessions_socket(staff_user):
    client = await login(staff_user)
    socket, _ = await open_socket(client)
    await socket.receive_json_from()
    response = await database_sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    await assert_closed_forbidden(socket)
    await socket.disconnect()


@pytest.mark.parametrize("field", ["is_active", "is_staff"])
async def test_losing_staff_or_activity_closes_socket(staff_user, field):
    socket, _ = await open_socket(await login(staff_user))
    await socket.receive_json_from()
    setattr(staff_user, field, False)
    await database_sync_to_async(staff_user.save)()
    await assert_closed_forbidden(socket)
    await socket.disconnect()


async def test_saving_an_unrelated_user_keeps_socket(staff_user, regular_user):
    socket, _ = await open_socket(await login(staff_user))
    await socket.receive_json_from()
    regular_user.first_name = "Sam"
    await database_sync_to_async(regular_user.save)()
    staff_user.first_name = "Pat"
    await database_sync_to_async(staff_user.save)()
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_deleting_user_closes_socket(staff_user):
    socket, _ = await open_socket(await login(staff_user))
    await socket.receive_json_from()
    await database_sync_to_async(staff_user.delete)()
    await assert_closed_forbidden(socket)
    await socket.disconnect()


@database_sync_to_async
def watcher_group(user: Any) -> Group:
    group = Group.objects.create(name="Watchers")
    group.permissions.add(Permission.objects.get(codename="watch_dashboard"))
    user.groups.add(group)
    return group


@pytest.mark.parametrize(
    "how", ["group_permission", "membership", "reverse_membership"]
)
async def test_model_permission_loss_closes_socket(settings, regular_user, how):
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    group = await watcher_group(regular_user)
    socket, connected = await open_socket(await login(regular_user))
    assert connected
    await socket.receive_json_from()

    @database_sync_to_async
    def revoke() -> None:
        if how == "group_permission":
            group.permissions.clear()
        elif how == "membership":
            regular_user.groups.remove(group)
        else:
            group.user_set.remove(regular_user)

    await revoke()
    await assert_closed_forbidden(socket)
    await socket.disconnect()


async def test_direct_permission_removal_closes_socket(settings, regular_user):
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    permission = await database_sync_to_async(Permission.objects.get)(
        codename="watch_dashboard"
    )
    await database_sync_to_async(regular_user.user_permissions.add)(permission)
    socket, connected = await open_socket(await login(regular_user))
    assert connected
    await socket.receive_json_from()
    await database_sync_to_async(permission.user_set.remove)(regular_user)
    await assert_closed_forbidden(socket)
    await socket.disconnect()


async def test_periodic_recheck_catches_changes_without_signals(
    settings, staff_user, django_user_model
):
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.1, "REVALIDATE_SECONDS": 0.1}
    socket, _ = await open_socket(await login(staff_user))
    await socket.receive_json_from()
    await database_sync_to_async(
        django_user_model.objects.filter(pk=staff_user.pk).update
    )(is_staff=False)
    await assert_closed_forbidden(socket)
    await socket.disconnect()
    await asyncio.sleep(0)
