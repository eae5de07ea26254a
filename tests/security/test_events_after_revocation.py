"""Promise 6: once the commit that takes a user's access away returns, no event
logged after it reaches that user's sockets.

Each case opens the victim's socket and a bystander's, commits a revocation
and at once (no sleep, in the same thread) saves a change to a cost field.
The bystander receives that change live, so it really went out; the victim's
socket receives no frame holding it (nor any other event logged after the
revocation) and is closed with 4403. Losing only the right to see costs keeps
the socket open, and the change arrives without its cost fields.

Every case runs on the in-memory layer and on both channels-redis layers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.test import Client

from shop_manager.live import admission
from shop_manager.live.consumer import CLOSE_FORBIDDEN
from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.sockets import dashboard_socket
from tests.helpers.users import login
from tests.helpers.waiting import HANG_BOUND

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("any_layer"),
]

NEW_PASSWORD = "a-new-and-long-passphrase"
# Values that appear nowhere but in the change saved after the revocation.
SUPPLIER_AFTER = "SUP-AFTER-REVOCATION-77"
COST_AFTER = "876.54"
MODEL_POLICY = "shop_manager.permissions.ModelPermissionsPolicy"


def event_ids(frame: dict[str, Any]) -> list[int]:
    """The ids of every event a frame carries, whatever its kind."""
    if frame["type"] == "frames":
        return [i for inner in frame["frames"] for i in event_ids(inner)]
    if frame["type"] == "event":
        return [frame["id"]]
    if frame["type"] == "batch":
        return [event["id"] for event in frame["events"]]
    return []


async def frames_until_close(
    socket: WebsocketCommunicator, timeout: float = HANG_BOUND
) -> tuple[int, list[dict[str, Any]]]:
    """Every frame the server sends until it closes, and the close code."""
    frames = []
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return int(output["code"]), frames
        frames.append(json.loads(output["text"]))


async def frames_until_event(
    socket: WebsocketCommunicator, event_id: int, timeout: float = HANG_BOUND
) -> list[dict[str, Any]]:
    """Every frame up to the one carrying ``event_id``."""
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        frames.append(frame)
        if event_id in event_ids(frame):
            return frames


class Victim:
    """The user whose access is taken away, logged in twice: ``client`` owns
    the watched socket, ``other`` is another of their sessions."""

    def __init__(self, user: Any, client: Client, other: Client) -> None:
        self.user, self.client, self.other = user, client, other


def demote(victim: Victim) -> None:
    victim.user.is_staff = False
    victim.user.save()


def deactivate(victim: Victim) -> None:
    victim.user.is_active = False
    victim.user.save()


def delete_user(victim: Victim) -> None:
    victim.user.delete()


def change_password_elsewhere(victim: Victim) -> None:
    # Through the admin in the user's other session, which keeps that one.
    response = victim.other.post(
        "/admin/password_change/",
        {
            "old_password": "victim-pass",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302


def delete_session_row(victim: Victim) -> None:
    Session.objects.filter(pk=victim.client.session.session_key).delete()


def log_out(victim: Victim) -> None:
    victim.client.post("/accounts/logout/")


def remove_groups_watch_permission(victim: Victim) -> None:
    Group.objects.get(name="Watchers").permissions.remove(
        Permission.objects.get(codename="watch_dashboard")
    )


def remove_groups_cost_permission(victim: Victim) -> None:
    Group.objects.get(name="Watchers").permissions.remove(
        Permission.objects.get(codename="view_product_costs")
    )


# Revocation → the permission policy it runs under.
REVOCATIONS: dict[str, tuple[Callable[[Victim], None], str | None]] = {
    "demoted": (demote, None),
    "deactivated": (deactivate, None),
    "deleted": (delete_user, None),
    "password_changed_elsewhere": (change_password_elsewhere, None),
    "session_row_deleted": (delete_session_row, None),
    "logged_out": (log_out, None),
    "group_permission_removed": (remove_groups_watch_permission, MODEL_POLICY),
}


@database_sync_to_async
def make_victim(model_policy: bool) -> Victim:
    """A staff member (default policy), or a member of a "Watchers" group
    that may watch and see costs (model permissions), logged in twice."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username="victim", password="victim-pass", is_staff=not model_policy
    )
    if model_policy:
        group = Group.objects.create(name="Watchers")
        group.permissions.add(
            *Permission.objects.filter(
                codename__in=["watch_dashboard", "view_product_costs"]
            )
        )
        user.groups.add(group)
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(user)
        clients.append(client)
    return Victim(user, *clients)


@pytest_asyncio.fixture
async def bystander(django_user_model: Any, open_socket: Any) -> WebsocketCommunicator:
    """Someone who keeps every right under either policy, costs included."""

    @database_sync_to_async
    def make_user() -> Any:
        user = django_user_model.objects.create_user(
            username="bystander", password="x", is_staff=True
        )
        user.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["watch_dashboard", "view_product_costs"]
            )
        )
        return user

    return await open_socket(await login(await make_user()))


@database_sync_to_async
def make_tea() -> Product:
    return Product.objects.create(
        name="Tea",
        price=Decimal("3.50"),
        cost_price=Decimal("1.25"),
        supplier_number="SUP-BEFORE",
        quantity=4,
    )


@database_sync_to_async
def revoke_then_change(
    revoke: Callable[[Victim], None], victim: Victim, tea: Product
) -> tuple[int, int]:
    """Commit the revocation, then at once a change to the cost fields;
    return the newest event id before the change and the change's id."""
    revoke(victim)
    before = latest_event_id()
    tea.supplier_number = SUPPLIER_AFTER
    tea.cost_price = Decimal(COST_AFTER)
    tea.save()
    return before, latest_event_id()


async def assert_delivered_live(
    bystander: WebsocketCommunicator, event_id: int
) -> None:
    frames = await frames_until_event(bystander, event_id)
    assert SUPPLIER_AFTER in json.dumps(frames)


@pytest.mark.parametrize("revocation", list(REVOCATIONS))
async def test_no_event_logged_after_a_revocation_reaches_the_socket(
    settings, bystander, open_socket, revocation
):
    """Attack: a demoted, deactivated, deleted or logged-out user, or one
    whose password changed elsewhere, whose session row was deleted or whose
    group lost watch_dashboard, keeps the socket open just long enough to read
    a cost change saved right after. Safe: nothing logged after the
    revocation reaches the socket; it is closed with 4403."""
    revoke, policy = REVOCATIONS[revocation]
    if policy is not None:
        settings.SHOP_MANAGER = {"PERMISSION_POLICY": policy}
    victim = await make_victim(model_policy=policy is not None)
    tea = await make_tea()
    socket = await open_socket(victim.client)

    before, change = await revoke_then_change(revoke, victim, tea)

    await assert_delivered_live(bystander, change)
    code, frames = await frames_until_close(socket)
    leaked = [i for frame in frames for i in event_ids(frame) if i > before]
    assert leaked == [], f"events logged after the revocation reached it: {frames}"
    assert SUPPLIER_AFTER not in json.dumps(frames)
    assert code == CLOSE_FORBIDDEN


async def test_losing_only_the_cost_permission_hides_costs_from_the_next_event(
    settings, bystander, open_socket
):
    """Attack: a watcher's group loses view_product_costs; the socket they
    opened before keeps streaming cost prices and supplier numbers. Safe: the
    socket stays open, and the next change arrives without its cost fields."""
    settings.SHOP_MANAGER = {"PERMISSION_POLICY": MODEL_POLICY}
    victim = await make_victim(model_policy=True)
    tea = await make_tea()
    socket = await open_socket(victim.client)

    _, change = await revoke_then_change(remove_groups_cost_permission, victim, tea)

    await assert_delivered_live(bystander, change)
    frames = await frames_until_event(socket, change)
    event = next(
        inner
        for frame in frames
        for inner in (frame["frames"] if frame["type"] == "frames" else [frame])
        if change in event_ids(inner)
    )
    assert event["type"] == "event"
    assert "supplier_number" not in event["changes"]
    assert "cost_price" not in event["changes"]
    assert SUPPLIER_AFTER not in json.dumps(frames)
    assert COST_AFTER not in json.dumps(frames)


async def test_a_replay_read_after_a_revocation_is_not_sent(staff_user, monkeypatch):
    """Race: the user is demoted after the handshake checked them, and a cost
    change is saved, before the ``?after=`` replay reads the log. Safe: the
    replay, which would hold that change, is not sent; the socket is closed
    with 4403."""
    tea = await make_tea()
    client = await login(staff_user)
    before = await database_sync_to_async(latest_event_id)()
    read_events = admission.events_after

    def demote_then_read(after: int, **annotations: Any) -> Any:
        staff_user.is_staff = False
        staff_user.save()
        tea.supplier_number = SUPPLIER_AFTER
        tea.save()
        return read_events(after, **annotations)

    monkeypatch.setattr(admission, "events_after", demote_then_read)
    socket = dashboard_socket(client, f"?after={before}")
    connected, _ = await socket.connect()
    assert connected
    code, frames = await frames_until_close(socket)
    assert [i for frame in frames for i in event_ids(frame)] == []
    assert SUPPLIER_AFTER not in json.dumps(frames)
    assert code == CLOSE_FORBIDDEN
