"""Access revocation: which changes send which message, when, and how many."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shop_manager.live import revocation as access
from shop_manager.live.groups import DASHBOARD_GROUP, session_group
from shop_manager.live.models import AccessGeneration
from tests.helpers.layers import RecordingLayer
from tests.helpers.waiting import HANG_BOUND

# Real commits: on_commit callbacks run as they would in production.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("recording_layer"),
]

RECHECK = [(DASHBOARD_GROUP, "access.recheck")]
MODEL_POLICY = {"PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"}


def kinds(sent: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """(group, message type) of each message sent."""
    return [(group, message["type"]) for group, message in sent]


@pytest.fixture
def recording_layer() -> Any:
    RecordingLayer.sent.clear()
    layers = {"default": {"BACKEND": "tests.helpers.layers.RecordingLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        yield RecordingLayer.sent
    RecordingLayer.sent.clear()


def test_logout_closes_that_session_and_asks_for_a_recheck(
    client, staff_user, recording_layer
):
    client.force_login(staff_user)
    session_key = client.session.session_key
    recording_layer.clear()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    # The targeted close, then the recheck for the deleted session row, both
    # on the dashboard group (one ordered stream with the events).
    assert kinds(recording_layer) == [
        (DASHBOARD_GROUP, "access.revoked"),
        *RECHECK,
    ]
    assert recording_layer[0][1]["group"] == session_group(session_key)


def test_each_message_carries_the_generation_its_commit_bumped_to(
    staff_user, recording_layer
):
    """Bumped after the commit, before the message: every event logged later
    carries a generation at least as high (shop_manager.live.barrier)."""
    before = AccessGeneration.objects.current()
    demote(staff_user)
    deactivate(staff_user)
    assert [message["generation"] for _, message in recording_layer] == [
        before + 1,
        before + 2,
    ]


def test_a_rolled_back_change_bumps_nothing(staff_user, recording_layer):
    before = AccessGeneration.objects.current()
    with transaction.atomic():
        demote(staff_user)
        transaction.set_rollback(True)
    assert AccessGeneration.objects.current() == before
    assert recording_layer == []


def session_of(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.session.session_key


def set_password(user: Any) -> None:
    user.set_password("new-pass")
    user.save()


def demote(user: Any) -> None:
    user.is_staff = False
    user.save()


def deactivate(user: Any) -> None:
    user.is_active = False
    user.save()


def rename(user: Any) -> None:
    user.first_name = "Pat"  # A custom policy may look at any field.
    user.save()


def delete_session_row(user: Any) -> None:
    Session.objects.get(pk=session_of(user)).delete()


def delete_sessions_by_queryset(user: Any) -> None:
    keys = [session_of(user), session_of(user)]
    Session.objects.filter(pk__in=keys).delete()


@pytest.mark.parametrize(
    "change",
    [
        demote,
        deactivate,
        rename,
        set_password,
        lambda user: user.save(update_fields=["password"]),
        lambda user: user.delete(),
        delete_session_row,
        delete_sessions_by_queryset,
    ],
    ids=[
        "demote",
        "deactivate",
        "rename",
        "password",
        "password_field",
        "user_delete",
        "session_delete",
        "session_queryset_delete",
    ],
)
def test_a_change_that_may_take_access_away_asks_for_one_recheck(
    staff_user, recording_layer, change
):
    change(staff_user)
    assert kinds(recording_layer) == RECHECK


def test_saves_that_change_no_access_send_nothing(
    django_user_model, staff_user, recording_layer
):
    django_user_model.objects.create_user(username="new", is_staff=True)
    staff_user.save(update_fields=["last_login"])  # What login saves.
    Group.objects.create(name="Empty")
    # Replaces the visitor's anonymous session row and saves last_login.
    session_of(staff_user)
    expired = Session.objects.create(
        session_key="x" * 32, session_data="", expire_date=timezone.now()
    )
    expired.delete()  # What clearsessions deletes.
    assert recording_layer == []


def test_a_rolled_back_change_sends_nothing(staff_user, recording_layer):
    def demote_then_fail() -> None:
        with transaction.atomic():
            demote(staff_user)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        demote_then_fail()
    assert recording_layer == []


def test_nothing_is_sent_before_commit(staff_user, recording_layer):
    with transaction.atomic():
        demote(staff_user)
        assert recording_layer == []
    assert kinds(recording_layer) == RECHECK


def test_one_transaction_sends_one_recheck(staff_user, regular_user, recording_layer):
    with transaction.atomic():
        demote(staff_user)
        set_password(regular_user)
        Session.objects.all().delete()
    assert kinds(recording_layer) == RECHECK


def test_a_rolled_back_savepoint_does_not_swallow_a_later_change(
    staff_user, regular_user, recording_layer
):
    def rename_then_fail() -> None:
        with transaction.atomic():
            rename(regular_user)
            raise RuntimeError

    with transaction.atomic():
        with pytest.raises(RuntimeError):
            rename_then_fail()
        demote(staff_user)  # Its recheck must survive the savepoint's rollback.
    assert kinds(recording_layer) == RECHECK


def test_each_commit_sends_its_own_recheck(staff_user, recording_layer):
    rename(staff_user)
    demote(staff_user)
    assert kinds(recording_layer) == RECHECK * 2


@pytest.fixture
def watchers(regular_user: Any) -> Group:
    group = Group.objects.create(name="Watchers")
    group.permissions.add(Permission.objects.get(codename="watch_dashboard"))
    regular_user.groups.add(group)
    return group


@override_settings(SHOP_MANAGER=MODEL_POLICY)
@pytest.mark.parametrize(
    "change",
    [
        lambda user, group: user.groups.remove(group),
        lambda user, group: group.user_set.remove(user),
        lambda user, group: group.permissions.clear(),
        lambda user, group: Permission.objects.get(
            codename="watch_dashboard"
        ).group_set.remove(group),
        lambda user, group: group.delete(),
        lambda user, group: Group.objects.filter(pk=group.pk).delete(),
        lambda user, group: setattr(group, "name", "Former watchers") or group.save(),
        lambda user, group: user.user_permissions.add(
            Permission.objects.get(codename="add_product")
        ),
    ],
    ids=[
        "user.groups",
        "group.user_set",
        "group.permissions",
        "perm.group_set",
        "group_delete",
        "group_queryset_delete",
        "group_rename",
        "user_permissions",
    ],
)
def test_a_group_or_permission_change_asks_for_one_recheck(
    regular_user, watchers, recording_layer, change
):
    recording_layer.clear()  # What making the group sent.
    change(regular_user, watchers)
    assert kinds(recording_layer) == RECHECK


@override_settings(SHOP_MANAGER=MODEL_POLICY)
def test_saving_a_big_group_costs_one_message_and_no_per_member_work(
    admin_client, django_user_model, recording_layer
):
    """An admin removes watch_dashboard from a group: the request sends one
    message, and makes as many queries for 500 members as for 5 (no policy
    check per member)."""
    watch = Permission.objects.get(codename="watch_dashboard")

    def queries_to_save_a_group_of(members: int) -> int:
        group = Group.objects.create(name=f"Watchers {members}")
        group.permissions.add(watch)
        group.user_set.add(
            *django_user_model.objects.bulk_create(
                django_user_model(username=f"watcher{members}.{n}")
                for n in range(members)
            )
        )
        recording_layer.clear()
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.post(
                f"/admin/auth/group/{group.pk}/change/", {"name": group.name}
            )
        assert response.status_code == 302
        assert not group.permissions.exists()
        assert kinds(recording_layer) == RECHECK
        return len(queries)

    queries_to_save_a_group_of(1)  # Warms the admin's caches (content types).
    assert queries_to_save_a_group_of(500) == queries_to_save_a_group_of(5)


def test_a_hanging_layer_is_logged_not_raised(staff_user, monkeypatch, caplog):
    monkeypatch.setattr(access, "_SEND_TIMEOUT", 0.2)
    layers = {"default": {"BACKEND": "tests.helpers.layers.HangingLayer"}}
    started = time.monotonic()
    with override_settings(CHANNEL_LAYERS=layers):
        demote(staff_user)
    # The layer hangs for an hour: done before HANG_BOUND, the send was cut.
    assert time.monotonic() - started < HANG_BOUND
    (record,) = [r for r in caplog.records if r.name == "shop_manager.live.revocation"]
    assert record.levelno == logging.ERROR
    assert DASHBOARD_GROUP in record.getMessage()


def test_a_broken_layer_never_breaks_the_save(staff_user, caplog):
    layers = {"default": {"BACKEND": "tests.helpers.layers.BrokenLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        demote(staff_user)
    staff_user.refresh_from_db()
    assert not staff_user.is_staff
    assert [
        r.levelno for r in caplog.records if r.name == "shop_manager.live.revocation"
    ] == [logging.ERROR]


def test_no_channel_layer_is_not_an_error(staff_user, caplog):
    with override_settings(CHANNEL_LAYERS={}):
        demote(staff_user)
    assert not [r for r in caplog.records if r.name == "shop_manager.live.revocation"]
