"""The socket re-check: does each socket's session still log its user in?"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shop_manager.live.models import AccessGeneration
from shop_manager.live.revalidation import check_socket, logs_in, still_valid

pytestmark = pytest.mark.django_db


def sockets_of(users: list[Any]) -> set[tuple[Any, str]]:
    """One socket per user, each opened by a fresh login."""
    sockets = set()
    for user in users:
        client = Client()
        client.force_login(user)
        sockets.add((user.pk, client.session.session_key))
    return sockets


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    def make(count: int) -> list[Any]:
        start = django_user_model.objects.count()
        return [
            django_user_model.objects.create_user(
                username=f"staff{start + n}", is_staff=True
            )
            for n in range(count)
        ]

    return make


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ],
)
def test_the_recheck_costs_the_same_queries_for_3_or_30_sockets(
    settings, staff, engine
):
    """Two queries (users, sessions) whatever the number of sockets."""
    settings.SESSION_ENGINE = engine
    few, many = sockets_of(staff(3)), sockets_of(staff(30))
    with CaptureQueriesContext(connection) as few_queries:
        assert set(still_valid(few)) == few
    with CaptureQueriesContext(connection) as many_queries:
        assert set(still_valid(many)) == many
    assert len(many_queries) == len(few_queries) == 2


def test_only_the_failing_sockets_are_dropped(staff, django_user_model):
    kept, demoted, deleted, password, gone = staff(5)
    sockets = sockets_of([kept, demoted, deleted, password, gone])
    (gone_key,) = [key for pk, key in sockets if pk == gone.pk]
    demoted.is_staff = False
    demoted.save()
    deleted.delete()
    password.set_password("changed")
    password.save()
    Session.objects.filter(pk=gone_key).delete()
    assert set(still_valid(sockets)) == {
        (pk, key) for pk, key in sockets if pk == kept.pk
    }


def test_a_socket_without_a_session_is_checked_against_the_policy_only(staff):
    (user,) = staff(1)
    assert still_valid({(user.pk, None)}) == {(user.pk, None): True}


def session_for(user: Any) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    return dict(client.session.items())


def test_logs_in_mirrors_get_user(staff, settings):
    (user,) = staff(1)
    (other,) = staff(1)
    session = session_for(user)
    assert logs_in(session, user)
    assert not logs_in(None, user)
    assert not logs_in({}, user)
    assert not logs_in(session, other)  # Another user's session.
    assert not logs_in({**session, HASH_SESSION_KEY: ""}, user)
    assert not logs_in({**session, HASH_SESSION_KEY: "forged"}, user)
    settings.AUTHENTICATION_BACKENDS = ["tests.nowhere.Backend"]
    assert not logs_in(session, user)  # Its backend is no longer configured.


def test_a_hash_made_with_a_fallback_secret_key_still_logs_in(staff, settings):
    """Rotating SECRET_KEY with the old one in SECRET_KEY_FALLBACKS keeps
    sessions, and so sockets, as get_user() does; dropping it ends both."""
    (user,) = staff(1)
    session = session_for(user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-rotated-secret-key"
    assert logs_in(session, user)
    settings.SECRET_KEY_FALLBACKS = []
    assert not logs_in(session, user)


def test_an_expired_session_no_longer_logs_in(staff):
    (user,) = staff(1)
    sockets = sockets_of([user])
    Session.objects.update(expire_date=timezone.now())
    assert still_valid(sockets) == {}


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
        "django.contrib.sessions.backends.cache",
    ],
)
def test_one_sockets_check_agrees_with_the_recheck_in_one_query(
    settings, staff, engine
):
    """check_socket() is still_valid() for one socket, with the access
    generation read in the same statement: one query (the cache engine's
    session is read from the cache after it)."""
    settings.SESSION_ENGINE = engine
    kept, demoted, deleted, password, gone = staff(5)
    sockets = sockets_of([kept, demoted, deleted, password, gone])
    key_of = dict(sockets)
    deleted_socket = (deleted.pk, key_of[deleted.pk])
    demoted.is_staff = False
    demoted.save()
    deleted.delete()
    password.set_password("changed")
    password.save()
    import_module(engine).SessionStore(key_of[gone.pk]).delete()
    # As the revocations' commits would (this test's transaction never
    # commits, so their on_commit bumps do not run).
    AccessGeneration.objects.bump()
    generation = AccessGeneration.objects.current()
    assert generation > 0
    with CaptureQueriesContext(connection) as queries:
        assert check_socket((kept.pk, key_of[kept.pk])) == (generation, True)
    assert len(queries) == 1  # The cache engine's session is not a query.
    for user in (demoted, password, gone):
        assert check_socket((user.pk, key_of[user.pk])) == (generation, None)
    assert check_socket(deleted_socket) == (0, None)
    assert check_socket((kept.pk, None)) == (generation, True)
