"""Who may open the dashboard socket: same-site origins only, and only users
the policy lets watch. Driven through ``tests.asgi``, which wraps the routes
in ``AllowedHostsOriginValidator(AuthMiddlewareStack(...))`` as the
installation docs tell hosts to (``ALLOWED_HOSTS`` = testserver, localhost,
127.0.0.1)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.helpers.sockets import dashboard_socket
from tests.helpers.users import ROLES, client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HOSTILE_ORIGINS = [
    b"http://evil.com",
    b"https://evil.example",
    # Look-alikes of an allowed host.
    b"http://testserver.evil.com",
    b"http://evil-testserver",
    b"http://testserverevil.com",
    b"http://evil.com/testserver",
    b"http://testserver@evil.com",
    b"http://localhost.evil.com",
    # What sandboxed iframes, file: pages and some redirects send.
    b"null",
    b"file://",
    b"",
]


async def refused(client, origin: bytes | None) -> bool:
    socket = dashboard_socket(client, origin=origin)
    connected, _ = await socket.connect()
    await socket.disconnect()
    return not connected


@pytest.mark.parametrize("origin", HOSTILE_ORIGINS)
async def test_a_foreign_origin_is_refused_even_for_staff(origin):
    """Attack: cross-site websocket hijacking, a page on another site opens
    the dashboard socket with the staff member's cookies and reads the live
    product feed. Safe: the handshake is refused for any Origin that is not
    one of ALLOWED_HOSTS, including look-alikes and ``null``."""
    client = await database_sync_to_async(client_for)("staff")
    assert await refused(client, origin)


async def test_a_missing_origin_is_refused():
    """Attack: a non-browser client (or a proxy that strips the header) opens
    the socket with a stolen cookie and no Origin. Safe: Channels'
    ``OriginValidator`` treats a missing Origin as invalid unless
    ALLOWED_HOSTS contains "*", so the handshake is refused."""
    client = await database_sync_to_async(client_for)("staff")
    assert await refused(client, None)


@pytest.mark.parametrize(
    "origin",
    [b"http://testserver", b"https://localhost:8443", b"http://127.0.0.1:8000"],
)
async def test_a_same_site_origin_is_accepted(origin):
    """Control: staff from an allowed host connect, so the refusals above come
    from the origin check."""
    client = await database_sync_to_async(client_for)("staff")
    assert not await refused(client, origin)


@pytest.mark.parametrize("role", ROLES)
async def test_only_staff_and_superusers_may_connect(role):
    """Attack: anonymous visitors, shoppers, and a deactivated staff member
    whose session cookie is still alive open the dashboard socket to read the
    feed. Safe: only active staff and superusers are accepted."""
    client = await database_sync_to_async(client_for)(role)
    assert await refused(client, b"http://testserver") is (
        role not in {"staff", "superuser"}
    )
