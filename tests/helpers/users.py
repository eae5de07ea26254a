"""Users of every role and logged-in clients, for sync and async tests."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from shop_manager.permissions import StaffPolicy

__all__ = [
    "ROLES",
    "WATCHERS_POLICY",
    "EveryoneWatchesPolicy",
    "client_for",
    "is_logged_in",
    "login",
    "make_user",
    "session_exists",
]

ROLES = ("anonymous", "regular", "inactive", "staff", "superuser")
WATCHERS_POLICY = "tests.helpers.users.EveryoneWatchesPolicy"


class EveryoneWatchesPolicy(StaffPolicy):
    """A host's policy: any active user may watch; costs stay staff-only."""

    def can_watch(self, user: Any) -> bool:
        return self.is_active(user) and user.is_authenticated


def make_user(role: str) -> Any:
    """A user of ``role``; None for anonymous.

    "inactive" is staff whose account was deactivated after they logged in:
    their session is still alive, see :func:`client_for`.
    """
    User = get_user_model()
    if role == "anonymous":
        return None
    if role == "superuser":
        return User.objects.create_superuser(username="boss", password="boss-pass")
    return User.objects.create_user(
        username=role, password=f"{role}-pass", is_staff=role in {"staff", "inactive"}
    )


def client_for(role: str, **kwargs: Any) -> Client:
    """A test client logged in as a fresh user of ``role``."""
    client = Client(**kwargs)
    user = make_user(role)
    if user is not None:
        client.force_login(user)
        if role == "inactive":
            # Deactivated after logging in: the session cookie still works.
            user.is_active = False
            user.save()
    return client


async def login(user: Any) -> Client:
    """A client logged in as ``user``, from an async test."""
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client


def session_exists(session_key: str) -> bool:
    return Session.objects.filter(session_key=session_key).exists()


def is_logged_in(client: Client) -> bool:
    return "Signed in as" in client.get("/products/").text
