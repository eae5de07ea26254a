"""Tell the dashboard sockets when access may have changed.

Logging out closes that session's sockets at once (an ``access.revoked``
naming the session). Any other change that may take access away (a user
saved, deleted or given a new password, a group or permission membership
changed, a group saved or deleted, a session deleted) sends ONE "re-check
now" message after commit, whoever and however many users it touches. Every
server process hears it and re-validates its own sockets in one database pass
(:mod:`shop_manager.live.revalidation`), so the request that saved the change
does no per-user work.

Before either message, after the commit and before the request goes on, the
access generation is bumped (:mod:`shop_manager.live.models`). Every event
logged later carries a generation at least that high, and a process holds it
back until its sockets have been checked since (:mod:`shop_manager.live.barrier`):
so no event logged after the revocation returns reaches a revoked socket,
even when the message itself is lost (Redis down at that moment). The
messages only make idle sockets close at once; the periodic re-check
(``REVALIDATE_SECONDS``) is the backstop for changes no signal announces.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from shop_manager.live import layer
from shop_manager.live.groups import DASHBOARD_GROUP, session_group
from shop_manager.live.models import AccessGeneration
from shop_manager.live.protocol import recheck_message, revoked_message

__all__ = ["request_recheck", "revoke_session"]

logger = logging.getLogger("shop_manager.live.revocation")

_SEND_TIMEOUT = 2.0


def revoke_session(session_key: str) -> None:
    """Close every socket opened by this session, after the current commit."""
    group = session_group(session_key)
    transaction.on_commit(lambda: _send(revoked_message(group, _bump())), robust=True)


class _RecheckBroadcast:
    """One pending "re-check now" message for one transaction."""

    sent = False

    def __call__(self) -> None:
        self.sent = True
        _send(recheck_message(_bump()))


def _bump() -> int | None:
    """Bump the access generation; the new one, or None if that failed."""
    try:
        AccessGeneration.objects.bump()
        return AccessGeneration.objects.current()
    except Exception:
        # The database went away right after the commit: the message still
        # goes out, without a generation, so processes re-check regardless.
        logger.exception("Could not bump the dashboard access generation.")
        return None


def request_recheck(using: str | None = None) -> None:
    """Ask every server process to re-validate its sockets, after commit.

    However many changes a transaction makes, it sends one message: saving a
    group of ten thousand users costs the request one ``group_send``.
    """
    connection = transaction.get_connection(using)
    # run_on_commit holds this transaction's callbacks; a rolled-back
    # savepoint takes its own out, so a pending broadcast here will still run.
    for _, callback, _ in connection.run_on_commit:
        if isinstance(callback, _RecheckBroadcast) and not callback.sent:
            return
    transaction.on_commit(_RecheckBroadcast(), using=using, robust=True)


def _send(message: dict[str, Any]) -> None:
    channel_layer = layer.get_layer()
    if channel_layer is None:
        return
    try:
        layer.send(channel_layer, DASHBOARD_GROUP, [message], timeout=_SEND_TIMEOUT)
    except Exception:
        # Never the save's problem. No later event reaches a revoked socket
        # (each carries the bumped generation); idle sockets close at the
        # periodic re-check.
        logger.exception(
            "Could not send %s to %s; dashboard sockets are re-checked every "
            "REVALIDATE_SECONDS anyway.",
            message["type"],
            DASHBOARD_GROUP,
        )


@receiver(user_logged_out, dispatch_uid="shop_manager.revoke_on_logout")
def _on_logout(request: Any, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        revoke_session(session_key)


def _on_user_saved(
    created: bool,
    raw: bool = False,
    update_fields: Any = None,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    # A new user has no sockets; logging in saves last_login, which changes
    # nobody's access.
    if not created and not raw and set(update_fields or ()) != {"last_login"}:
        request_recheck(using)


def _on_group_saved(
    created: bool, raw: bool = False, using: str | None = None, **kwargs: Any
) -> None:
    # A policy may look at group names; a new group has no members yet.
    if not created and not raw:
        request_recheck(using)


def _on_deleted(using: str | None = None, **kwargs: Any) -> None:
    request_recheck(using)


def _on_session_deleted(instance: Any, using: str | None = None, **kwargs: Any) -> None:
    # Only a live, logged-in session can have opened a socket. Logging in
    # deletes the visitor's anonymous session, and clearsessions expired
    # ones (which fail the re-check anyway): neither is worth a broadcast.
    if instance.expire_date > timezone.now() and SESSION_KEY in instance.get_decoded():
        request_recheck(using)


def _on_membership_changed(
    action: str, using: str | None = None, **kwargs: Any
) -> None:
    if action.startswith("post_"):
        request_recheck(using)


def _session_model() -> Any:
    """The database model of the configured session engine, if it has one."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    get_model_class = getattr(store, "get_model_class", None)
    return get_model_class() if get_model_class is not None else None


def connect_receivers() -> None:
    """Hook the user and session models (both configurable, so only known at
    ready())."""
    User = get_user_model()
    post_save.connect(
        _on_user_saved, sender=User, dispatch_uid="shop_manager.recheck_on_user_save"
    )
    post_delete.connect(
        _on_deleted, sender=User, dispatch_uid="shop_manager.recheck_on_user_delete"
    )
    post_save.connect(
        _on_group_saved, sender=Group, dispatch_uid="shop_manager.recheck_on_group_save"
    )
    # Deleting a group drops its memberships without m2m_changed.
    post_delete.connect(
        _on_deleted, sender=Group, dispatch_uid="shop_manager.recheck_on_group_delete"
    )
    # Also sent per row by QuerySet.delete(), clearsessions included: once a
    # model has delete receivers, Django fetches the rows and sends them.
    session_model = _session_model()
    if session_model is not None:
        post_delete.connect(
            _on_session_deleted,
            sender=session_model,
            dispatch_uid="shop_manager.recheck_on_session_delete",
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
                dispatch_uid=f"shop_manager.recheck_on_m2m.{through.through._meta.label}",
            )
