"""Access revocation: which changes tell which sockets to close, and when."""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import pytest
from channels.layers import InMemoryChannelLayer
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import override_settings

from shop_manager import access
from shop_manager.groups import session_group, user_group

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("recording_layer"),
]

REVOKED = {"type": "access.revoked"}
MODEL_POLICY = {"PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"}


class RecordingLayer(InMemoryChannelLayer):
    sent: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        RecordingLayer.sent.append((group, message))


@pytest.fixture
def recording_layer() -> Any:
    RecordingLayer.sent.clear()
    layers = {"default": {"BACKEND": "tests.test_access.RecordingLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        yield RecordingLayer.sent
    RecordingLayer.sent.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the block and then its on-commit callbacks, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def revoked_groups(sent: list[tuple[str, dict[str, Any]]]) -> list[str]:
    assert all(message == REVOKED for _, message in sent)
    return [group for group, _ in sent]


def test_logout_revokes_that_session(client, staff_user, committed, recording_layer):
    client.force_login(staff_user)
    session_key = client.session.session_key
    recording_layer.clear()
    with committed():
        response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert revoked_groups(recording_layer) == [session_group(session_key)]


@pytest.mark.parametrize("field", ["is_active", "is_staff"])
def test_losing_access_revokes_the_user(staff_user, committed, recording_layer, field):
    with committed():
        setattr(staff_user, field, False)
        staff_user.save()
    assert revoked_groups(recording_layer) == [user_group(staff_user.pk)]


def test_saves_that_keep_access_revoke_nobody(
    staff_user, regular_user, committed, recording_layer
):
    with committed():
        staff_user.first_name = "Pat"
        staff_user.save()
        staff_user.is_active = False
        staff_user.save(update_fields=["last_login"])  # What login saves.
    assert recording_layer == []


def test_a_rolled_back_revocation_sends_nothing(staff_user, committed, recording_layer):
    def demote_then_fail() -> None:
        with transaction.atomic():
            staff_user.is_staff = False
            staff_user.save()
            raise RuntimeError

    with committed(), pytest.raises(RuntimeError):
        demote_then_fail()
    assert recording_layer == []


def test_nothing_is_sent_before_commit(staff_user, committed, recording_layer):
    with committed():
        staff_user.is_staff = False
        staff_user.save()
        assert recording_layer == []
    assert len(recording_layer) == 1


def test_deleting_a_user_revokes_them(staff_user, committed, recording_layer):
    pk = staff_user.pk
    with committed():
        staff_user.delete()
    assert revoked_groups(recording_layer) == [user_group(pk)]


@pytest.fixture
def watchers(regular_user: Any) -> Group:
    group = Group.objects.create(name="Watchers")
    group.permissions.add(Permission.objects.get(codename="watch_dashboard"))
    regular_user.groups.add(group)
    return group


@override_settings(SHOP_MANAGER=MODEL_POLICY)
@pytest.mark.parametrize(
    "revoke",
    [
        lambda user, group: user.groups.remove(group),
        lambda user, group: group.user_set.remove(user),
        lambda user, group: group.permissions.clear(),
        lambda user, group: Permission.objects.get(
            codename="watch_dashboard"
        ).group_set.remove(group),
        lambda user, group: group.delete(),
    ],
    ids=["user.groups", "group.user_set", "group.permissions", "perm.group_set", "del"],
)
def test_losing_watch_dashboard_revokes_the_user(
    regular_user, watchers, committed, recording_layer, revoke
):
    with committed():
        revoke(regular_user, watchers)
    assert revoked_groups(recording_layer) == [user_group(regular_user.pk)]


@override_settings(SHOP_MANAGER=MODEL_POLICY)
def test_losing_a_direct_permission_revokes_the_user(
    regular_user, committed, recording_layer
):
    permission = Permission.objects.get(codename="watch_dashboard")
    regular_user.user_permissions.add(permission)
    with committed():
        regular_user.user_permissions.remove(permission)
    assert revoked_groups(recording_layer) == [user_group(regular_user.pk)]


@override_settings(SHOP_MANAGER=MODEL_POLICY)
def test_gaining_permission_revokes_nobody(
    regular_user, watchers, committed, recording_layer
):
    other = Group.objects.create(name="Others")
    with committed():
        regular_user.groups.add(other)
    assert recording_layer == []


def test_a_hanging_layer_is_logged_not_raised(
    staff_user, committed, monkeypatch, caplog
):
    monkeypatch.setattr(access, "_REVOKE_TIMEOUT", 0.2)
    layers = {"default": {"BACKEND": "tests.layers.HangingLayer"}}
    started = time.monotonic()
    with override_settings(CHANNEL_LAYERS=layers), committed():
        staff_user.is_staff = False
        staff_user.save()
    assert time.monotonic() - started < 2
    (record,) = [r for r in caplog.records if r.name == "shop_manager.access"]
    assert record.levelno == logging.ERROR
    assert user_group(staff_user.pk) in record.getMessage()


def test_no_channel_layer_is_not_an_error(staff_user, committed, caplog):
    with override_settings(CHANNEL_LAYERS={}), committed():
        staff_user.is_staff = False
        staff_user.save()
    assert not [r for r in caplog.records if r.name == "shop_manager.access"]
