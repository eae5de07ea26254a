"""Dashboard sockets on the test project's real routing (``tests.asgi``, so
URL, origin validator and session middleware all run), shared by every test
package."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.asgi import application

SAME_ORIGIN = b"http://testserver"


def dashboard_socket(
    client: Client | None, query: str = "", origin: bytes = SAME_ORIGIN
) -> WebsocketCommunicator:
    """A socket to ``/ws/products/{query}`` carrying ``client``'s session
    cookie (none for ``None``: an anonymous visitor) and ``origin``."""
    headers = [(b"origin", origin)]
    if client is not None:
        session = client.cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, f"/ws/products/{query}", headers=headers)
