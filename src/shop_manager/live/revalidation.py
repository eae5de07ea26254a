"""Does each connected socket's session still log its user in?

The socket-side twin of ``django.contrib.auth.get_user()``: a socket may stay
open while its user exists and may watch, and the session that opened it still
exists and still carries the user's current session auth hash (or one made
with a ``SECRET_KEY_FALLBACKS`` key). A password change, "log out everywhere",
an expired or deleted session all fail it, as they do over HTTP.
"""

from __future__ import annotations

from collections.abc import Collection
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.db.models import Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from shop_manager.live.models import AccessGeneration, generation_subquery
from shop_manager.permissions import get_policy

__all__ = [
    "Socket",
    "check_socket",
    "checked_sockets",
    "load_sessions",
    "still_valid",
]

# A socket as the re-check sees it: (user pk, key of the session that opened it).
Socket = tuple[Any, "str | None"]


def checked_sockets(sockets: Collection[Socket]) -> tuple[int, dict[Socket, bool]]:
    """The access generation, read first, and :func:`still_valid`'s answer,
    read after it: so the answer reflects every revocation that bumped the
    generation to that number or below (each bumps after its commit)."""
    generation = AccessGeneration.objects.current()
    return generation, still_valid(sockets)


def check_socket(socket: Socket) -> tuple[int, bool | None]:
    """One socket's check, as :func:`checked_sockets` makes it for many, in
    one query with the database session engines: the user, the access
    generation and the session's data come from one statement, so from one
    snapshot. The generation, and whether the user may see costs, or None
    when the socket may not stay open."""
    user_pk, session_key = socket
    store_class = _session_store()
    in_database = session_key is not None and issubclass(
        store_class, DatabaseSessionStore
    )
    users = (
        get_user_model()
        ._default_manager.filter(pk=user_pk)
        .annotate(shop_manager_generation=generation_subquery())
    )
    if in_database:
        sessions = store_class.get_model_class()._default_manager.filter(
            session_key=session_key, expire_date__gt=timezone.now()
        )
        users = users.annotate(
            shop_manager_session=Subquery(sessions.values("session_data")[:1])
        )
    user = users.first()
    if user is None:
        return 0, None
    generation: int = getattr(user, "shop_manager_generation", None) or 0
    policy = get_policy()
    if not policy.can_watch(user):
        return generation, None
    if session_key is not None:
        if in_database:
            data = getattr(user, "shop_manager_session", None)
            session = store_class().decode(data) if data else None
        else:  # Read after the generation, as in checked_sockets().
            session = load_sessions({session_key}).get(session_key)
        if not logs_in(session, user):
            return generation, None
    return generation, policy.can_see_costs(user)


def still_valid(sockets: Collection[Socket]) -> dict[Socket, bool]:
    """The sockets that may stay open, each with whether its user may see
    cost fields.

    A constant number of queries for any number of sockets with the database
    session engines (one for the users, one for the sessions), plus whatever
    the permission policy's ``can_watch`` and ``can_see_costs`` ask.
    """
    policy = get_policy()
    users = {
        user.pk: user
        for user in get_user_model()._default_manager.filter(
            pk__in={user_pk for user_pk, _ in sockets}
        )
    }
    watchers = {pk: user for pk, user in users.items() if policy.can_watch(user)}
    sees_costs = {pk: policy.can_see_costs(user) for pk, user in watchers.items()}
    sessions = load_sessions({key for _, key in sockets if key})
    return {
        (user_pk, session_key): sees_costs[user_pk]
        for user_pk, session_key in sockets
        if user_pk in watchers
        # A socket opened without a session (a host's own auth middleware)
        # has no session to outlive.
        and (
            session_key is None or logs_in(sessions.get(session_key), watchers[user_pk])
        )
    }


def load_sessions(session_keys: Collection[str]) -> dict[str, dict[str, Any]]:
    """The data of each session that still exists (and has not expired), by key.

    Asks the configured ``SESSION_ENGINE``: ``db`` and ``cached_db`` (and
    their subclasses) in one query; any other engine (cache, file, signed
    cookies) one ``SessionStore(key).load()`` per key.
    """
    if not session_keys:
        return {}
    store_class = _session_store()
    if issubclass(store_class, DatabaseSessionStore):
        rows = (
            store_class.get_model_class()
            ._default_manager.filter(
                session_key__in=session_keys, expire_date__gt=timezone.now()
            )
            .values_list("session_key", "session_data")
        )
        decoder = store_class()
        sessions = {key: decoder.decode(data) for key, data in rows}
    else:
        sessions = {key: store_class(key).load() for key in session_keys}
    return {key: data for key, data in sessions.items() if data}


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def logs_in(session: dict[str, Any] | None, user: Any) -> bool:
    """Would ``get_user()`` find ``user`` logged in with this session's data?"""
    if not session:
        return False
    try:
        session_user_pk = user._meta.pk.to_python(session[SESSION_KEY])
    except (KeyError, ValidationError):
        return False
    if session_user_pk != user.pk:
        return False
    if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return False
    if not hasattr(user, "get_session_auth_hash"):
        return True
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash:
        return False
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    # get_user() accepts a hash made with a key in SECRET_KEY_FALLBACKS (and
    # upgrades the session on the next request).
    fallback_hashes = getattr(user, "get_session_auth_fallback_hash", lambda: ())()
    return any(constant_time_compare(session_hash, h) for h in fallback_hashes)
