"""``SyncChainMiddleware``: under ASGI the middleware chain runs in one thread,
with no round trip to the event loop per middleware method."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import AsyncClient, override_settings

from shop_manager.checks import SYNC_CHAIN_MIDDLEWARE

pytestmark = [pytest.mark.django_db, pytest.mark.asyncio]


@pytest.fixture
def middleware_hops() -> Iterator[list[str]]:
    """The middleware methods Django's ``MiddlewareMixin`` sent to a thread
    from the event loop, one round trip each."""
    hops: list[str] = []

    def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return sync_to_async(func, *args, **kwargs)

    with mock.patch("django.utils.deprecation.sync_to_async", counting):
        yield hops


async def test_without_it_each_middleware_method_is_a_round_trip(
    middleware_hops: list[str],
) -> None:
    # What the middleware is for; it also shows the counting sees the hops.
    response = await AsyncClient().get("/accounts/login/")

    assert response.status_code == 200
    assert "SessionMiddleware.process_request" in middleware_hops
    assert len(middleware_hops) >= 6


async def test_last_in_middleware_the_chain_runs_in_one_thread(
    middleware_hops: list[str],
) -> None:
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, SYNC_CHAIN_MIDDLEWARE]):
        client = AsyncClient(enforce_csrf_checks=True)
        page = await client.get("/accounts/login/")
        # A POST through CSRF, sessions and auth: the chain still does its job.
        posted = await client.post(
            "/accounts/login/", {"username": "nobody", "password": "wrong"}
        )

    assert page.status_code == 200
    assert posted.status_code == 403  # No CSRF token: CsrfViewMiddleware ran.
    assert middleware_hops == []
