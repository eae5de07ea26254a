"""Close dashboard sockets promptly when their user may no longer watch.

Logging out closes that session's sockets; deactivating a user, removing
staff, deleting the user, changing their groups and permissions or deleting a
group they are in closes every socket of a user who fails the policy afterwards. The message travels over the
channel layer after commit, so it reaches sockets on every server process. If it
is lost, the heartbeat's periodic re-check closes them anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from shop_manager.conf import get_config
from shop_manager.groups import session_group, user_group
from shop_manager.permissions import get_policy

__all__ = ["revoke_groups"]

logger = logging.getLogger("shop_manager.access")

_REVOKE_TIMEOUT = 2.0


def revoke_groups(groups: Iterable[str]) -> None:
    """Tell every socket in ``groups`` to close, after the current commit."""
    groups = list(groups)
    if groups:
        transaction.on_commit(lambda: _send_revocations(groups), robust=True)


def _send_revocations(groups: list[str]) -> None:
    layer = get_channel_layer(get_config()["CHANNEL_LAYER"])
    if layer is None:
        return

    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, {"type": "access.revoked"})

    try:
        async_to_sync(asyncio.wait_for)(send_all(), _REVOKE_TIMEOUT)
    except Exception:
        logger.exception(
            "Could not close dashboard sockets for %s; the re-check will.", groups
        )


def _revoke_users_who_cannot_watch(users: Iterable[Any]) -> None:
    policy = get_policy()
    revoke_groups(user_group(user.pk) for user in users if not policy.can_watch(user))


@receiver(user_logged_out, dispatch_uid="shop_manager.revoke_on_logout")
def _on_logout(request: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        revoke_groups([session_group(session_key)])


def _on_user_saved(
    instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    # Logging in saves last_login, which changes nobody's access.
    if not raw and set(update_fields or ()) != {"last_login"}:
        # A fresh instance: permission caches on the saved one may be stale.
        _revoke_users_who_cannot_watch(
            type(instance)._default_manager.filter(pk=instance.pk)
        )


def _on_user_deleted(instance: Any, **kwargs: Any) -> None:
    revoke_groups([user_group(instance.pk)])


def _on_membership_changed(
    instance: Any,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if not action.startswith("post_"):
        return
    User = get_user_model()
    manager = User._default_manager
    if model is User:  # group.user_set / permission.user_set changed
        users: Any = manager.filter(pk__in=pk_set or ())
    elif isinstance(instance, User):  # user.groups / user.user_permissions changed
        users = manager.filter(pk=instance.pk)
    elif isinstance(instance, Group):  # group.permissions changed
        users = manager.filter(groups=instance)
    else:  # permission.group_set changed
        users = manager.filter(groups__pk__in=pk_set or ()).distinct()
    _revoke_users_who_cannot_watch(users)


def _on_group_deleting(instance: Group, **kwargs: Any) -> None:
    # Deleting a group drops its memberships without m2m_changed: remember who
    # was in it, and re-check them once it is gone (same transaction).
    instance._shop_manager_member_pks = list(  # type: ignore[attr-defined]
        get_user_model()
        ._default_manager.filter(groups=instance)
        .values_list("pk", flat=True)
    )


def _on_group_deleted(instance: Group, **kwargs: Any) -> None:
    member_pks = getattr(instance, "_shop_manager_member_pks", None)
    if member_pks:
        _revoke_users_who_cannot_watch(
            get_user_model()._default_manager.filter(pk__in=member_pks)
        )


def connect_receivers() -> None:
    """Hook the user model (swappable, so only known at ready())."""
    User = get_user_model()
    post_save.connect(
        _on_user_saved, sender=User, dispatch_uid="shop_manager.revoke_on_user_save"
    )
    post_delete.connect(
        _on_user_deleted, sender=User, dispatch_uid="shop_manager.revoke_on_user_delete"
    )
    pre_delete.connect(
        _on_group_deleting, sender=Group, dispatch_uid="shop_manager.group_deleting"
    )
    post_delete.connect(
        _on_group_deleted, sender=Group, dispatch_uid="shop_manager.group_deleted"
    )
    for through in (
        getattr(User, "groups", None),
        getattr(User, "user_permissions", None),
        Group.permissions,
    ):
        if through is not None:
            m2m_changed.connect(
                _on_membership_changed,
                sender=through.through,
                dispatch_uid=f"shop_manager.revoke_on_m2m.{through.through._meta.label}",
            )
