"""A dashboard socket lives no longer than the session that opened it, nor
than its user's right to watch.

Each case takes access away while a socket is open and checks that the socket
is closed with 4403 within seconds (well before the 30 s periodic re-check:
the change's own broadcast does it), that it gets no product event after, and
that a bystander's socket stays open and keeps receiving events. Every case
runs on the in-memory layer and on both channels-redis layers.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.utils import timezone

from shop_manager.live.consumer import CLOSE_FORBIDDEN
from tests.helpers.products import create_product
from tests.helpers.sockets import (
    assert_no_event_queued,
    closed_with,
    dashboard_socket,
    next_event,
)
from tests.helpers.users import login

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("any_layer"),
]

NEW_PASSWORD = "a-new-and-long-passphrase"


@pytest_asyncio.fixture
async def bystander(django_user_model: Any, open_socket: Any) -> WebsocketCommunicator:
    """The socket of a user nobody touches (staff, with watch_dashboard too,
    so either policy lets them watch)."""

    @database_sync_to_async
    def make_user() -> Any:
        user = django_user_model.objects.create_user(
            username="bystander", password="x", is_staff=True
        )
        user.user_permissions.add(Permission.objects.get(codename="watch_dashboard"))
        return user

    return await open_socket(await login(await make_user()))


async def assert_closed_and_bystander_served(
    bystander: WebsocketCommunicator, *closed: WebsocketCommunicator
) -> None:
    for socket in closed:
        assert await closed_with(socket) == CLOSE_FORBIDDEN
    await create_product()
    assert (await next_event(bystander))["action"] == "created"
    for socket in closed:
        assert_no_event_queued(socket)


async def refused(client: Client) -> bool:
    socket = dashboard_socket(client)
    connected, _ = await socket.connect()
    await socket.disconnect()
    return not connected


@pytest.mark.parametrize("field", ["is_staff", "is_active"])
async def test_demotion_or_deactivation_closes_the_socket(
    staff_user, bystander, open_socket, field
):
    """Attack: a demoted or deactivated employee keeps watching on an open
    socket. Safe: it closes."""
    socket = await open_socket(await login(staff_user))
    setattr(staff_user, field, False)
    await database_sync_to_async(staff_user.save)()
    await assert_closed_and_bystander_served(bystander, socket)


async def test_logout_closes_that_sessions_socket(staff_user, bystander, open_socket):
    """Attack: a shared computer's user logs out; the dashboard tab keeps
    streaming. Safe: it closes."""
    client = await login(staff_user)
    socket = await open_socket(client)
    await database_sync_to_async(client.logout)()
    await assert_closed_and_bystander_served(bystander, socket)


async def test_changing_ones_password_closes_the_other_sessions_sockets(
    staff_user, bystander, open_socket
):
    """Attack: someone with a stolen session watches; the owner changes their
    password elsewhere, which logs the thief out over HTTP. Safe: the thief's
    socket closes too. Django moves the changing browser to a new session key,
    so its old socket closes as well, and it may connect again at once."""
    owner, thief = await login(staff_user), await login(staff_user)
    owners_socket, thiefs_socket = await open_socket(owner), await open_socket(thief)
    response = await database_sync_to_async(owner.post)(
        "/admin/password_change/",
        {
            "old_password": "staff-pass",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    await assert_closed_and_bystander_served(bystander, thiefs_socket, owners_socket)
    assert await refused(thief)
    assert not await refused(owner)


async def test_the_changing_session_keeps_its_socket_when_it_carries_the_new_hash(
    staff_user, bystander, open_socket
):
    """As update_session_auth_hash() keeps the changing session logged in: a
    session that carries the new hash (same key) keeps its socket; the user's
    other sessions lose theirs."""
    changing, other = await login(staff_user), await login(staff_user)
    kept, closed = await open_socket(changing), await open_socket(other)

    @database_sync_to_async
    def change_password_keeping_this_session() -> None:
        with transaction.atomic():
            staff_user.set_password(NEW_PASSWORD)
            staff_user.save()
            session = SessionStore(changing.session.session_key)
            session[HASH_SESSION_KEY] = staff_user.get_session_auth_hash()
            session.save()

    await change_password_keeping_this_session()
    await assert_closed_and_bystander_served(bystander, closed)
    assert (await next_event(kept))["action"] == "created"


async def test_an_admin_changing_the_password_closes_every_socket_of_the_user(
    staff_user, admin_user, bystander, open_socket
):
    """Attack: an admin resets a compromised account's password; its open
    dashboards keep streaming. Safe: all of them close."""
    sockets = [
        await open_socket(await login(staff_user)),
        await open_socket(await login(staff_user)),
    ]
    admin = await login(admin_user)
    response = await database_sync_to_async(admin.post)(
        f"/admin/auth/user/{staff_user.pk}/password/",
        {
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    await assert_closed_and_bystander_served(bystander, *sockets)


@pytest.mark.parametrize("how", ["instance", "queryset"])
async def test_deleting_the_session_row_closes_its_socket_only(
    staff_user, bystander, open_socket, how
):
    """Attack: an admin deletes a stolen session ("log out everywhere" does
    the same with a queryset); its socket keeps streaming. Safe: it closes,
    and the user's other session keeps its socket."""
    stolen, own = await login(staff_user), await login(staff_user)
    closed, kept = await open_socket(stolen), await open_socket(own)

    @database_sync_to_async
    def delete_session() -> None:
        sessions = Session.objects.filter(pk=stolen.session.session_key)
        if how == "instance":
            sessions.get().delete()
        else:
            sessions.delete()

    await delete_session()
    await assert_closed_and_bystander_served(bystander, closed)
    assert (await next_event(kept))["action"] == "created"


async def test_deleting_the_user_closes_the_socket(staff_user, bystander, open_socket):
    """Attack: a deleted account's open dashboard keeps streaming. Safe: it
    closes."""
    socket = await open_socket(await login(staff_user))
    await database_sync_to_async(staff_user.delete)()
    await assert_closed_and_bystander_served(bystander, socket)


@pytest.fixture
def model_policy(settings: Any) -> None:
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }


async def test_removing_the_groups_permission_closes_the_members_socket(
    model_policy, regular_user, bystander, open_socket
):
    """Attack: a role loses watch_dashboard; its members keep watching.
    Safe: their sockets close."""
    watch = await database_sync_to_async(Permission.objects.get)(
        codename="watch_dashboard"
    )

    @database_sync_to_async
    def join_watchers() -> Group:
        group = Group.objects.create(name="Watchers")
        group.permissions.add(watch)
        regular_user.groups.add(group)
        return group

    group = await join_watchers()
    socket = await open_socket(await login(regular_user))
    await database_sync_to_async(group.permissions.remove)(watch)
    await assert_closed_and_bystander_served(bystander, socket)


@pytest.fixture
def fast_recheck(settings: Any) -> None:
    """Re-check every 0.2 s; before any socket opens, as the ticker's first
    sleep is as long as the heartbeat when it starts."""
    settings.SHOP_MANAGER = {"HEARTBEAT_SECONDS": 0.1, "REVALIDATE_SECONDS": 0.2}


async def test_the_periodic_recheck_closes_an_expired_session(
    fast_recheck, staff_user, bystander, open_socket
):
    """Attack: a session expires (a change that sends no signal) while its
    socket stays open. Safe: the periodic re-check, the backstop for every
    lost or missing broadcast, closes it."""
    client = await login(staff_user)
    socket = await open_socket(client)
    await database_sync_to_async(
        Session.objects.filter(pk=client.session.session_key).update
    )(expire_date=timezone.now())
    await assert_closed_and_bystander_served(bystander, socket)


@pytest.fixture(
    params=[
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.signed_cookies",
    ],
    ids=["cache", "signed_cookies"],
)
def session_engine(request: pytest.FixtureRequest, settings: Any) -> str:
    """A session engine outside the database, set before any socket opens."""
    settings.SESSION_ENGINE = request.param
    return str(request.param)


async def test_other_session_engines_close_on_a_password_change(
    session_engine, staff_user, bystander, open_socket
):
    """The same holds with sessions outside the database: the re-check asks
    the configured engine for each session."""
    socket = await open_socket(await login(staff_user))
    staff_user.set_password(NEW_PASSWORD)
    await database_sync_to_async(staff_user.save)()
    await assert_closed_and_bystander_served(bystander, socket)


@pytest.mark.parametrize(
    "session_engine", ["django.contrib.sessions.backends.cache"], indirect=True
)
async def test_a_deleted_cache_session_is_closed_by_the_periodic_recheck(
    session_engine, fast_recheck, staff_user, bystander, open_socket
):
    """Attack: a session in the cache engine is deleted (no signal is sent
    for it). Safe: the periodic re-check asks the engine and closes it."""
    client = await login(staff_user)
    socket = await open_socket(client)
    await database_sync_to_async(client.session.delete)()
    await assert_closed_and_bystander_served(bystander, socket)


@pytest.mark.parametrize("change", ["rename", "join_another_group"])
async def test_a_change_that_keeps_access_keeps_the_socket(
    model_policy, regular_user, django_user_model, bystander, open_socket, change
):
    """Every access change makes each process re-check, but only a socket
    that fails the re-check closes: a user who keeps access keeps watching.
    (A canary demoted afterwards proves a re-check has run since.)"""
    watch = await database_sync_to_async(Permission.objects.get)(
        codename="watch_dashboard"
    )

    @database_sync_to_async
    def make_watcher(user: Any) -> Any:
        user.user_permissions.add(watch)
        return user

    await make_watcher(regular_user)
    canary = await make_watcher(
        await database_sync_to_async(django_user_model.objects.create_user)(
            username="canary", password="x"
        )
    )
    socket = await open_socket(await login(regular_user))
    canarys_socket = await open_socket(await login(canary))

    @database_sync_to_async
    def keep_access() -> None:
        if change == "rename":
            regular_user.first_name = "Pat"
            regular_user.save()
        else:
            regular_user.groups.add(Group.objects.create(name="Others"))

    await keep_access()
    await database_sync_to_async(canary.user_permissions.remove)(watch)
    await assert_closed_and_bystander_served(bystander, canarys_socket)
    assert (await next_event(socket))["action"] == "created"
