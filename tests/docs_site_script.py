"""Run inside a site built from the install guide (tests/test_docs_snippets.py).

Drives ``mysite.asgi.application`` the way a browser would: the product
list, the dashboard's script, the login redirect and a staff user's socket.
Prints "site works" last when every step did.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from typing import Any

from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

HOST = [(b"host", b"localhost")]
# Only bounds a hang (the site cannot import tests.helpers.waiting, whose
# HANG_BOUND this mirrors): a loaded machine may take seconds for any step.
HANG_BOUND = 30.0


async def get(application: Any, path: str) -> dict[str, Any]:
    """Status, headers and body; tolerates the streamed chunks a FileResponse
    sends (channels' HttpCommunicator expects a body in every one)."""
    communicator = ApplicationCommunicator(
        application,
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": HOST,
        },
    )
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=HANG_BOUND)
    body = b""
    while True:
        chunk = await communicator.receive_output(timeout=HANG_BOUND)
        body += chunk.get("body", b"")
        if not chunk.get("more_body", False):
            break
    await communicator.wait()
    return {"status": start["status"], "headers": start["headers"], "body": body}


def header(response: dict[str, Any], name: bytes) -> bytes:
    value: bytes = dict(response["headers"])[name]
    return value


async def drive(application: Any, session_cookie: str) -> None:
    products = await get(application, "/products/")
    assert products["status"] == 200, products["status"]

    script = await get(application, "/static/shop_manager/js/dashboard.js")
    assert script["status"] == 200, "the dashboard's script is served"
    assert b"function startDashboard" in script["body"]

    dashboard = await get(application, "/dashboard/products/")
    assert dashboard["status"] == 302
    assert header(dashboard, b"Location").startswith(b"/accounts/login/")

    socket = WebsocketCommunicator(
        application,
        "/ws/products/?after=0",
        headers=[
            (b"origin", b"http://localhost"),
            (b"cookie", f"sessionid={session_cookie}".encode()),
        ],
    )
    connected, _ = await socket.connect()
    try:
        assert connected, "a staff user's socket is accepted"
        frame = json.loads(await socket.receive_from(timeout=HANG_BOUND))
        assert frame["type"] == "batch", frame
    finally:
        await socket.disconnect()


def main() -> None:
    # Importing it sets Django up, as a server would.
    application = importlib.import_module("mysite.asgi").application
    staff = get_user_model().objects.create_user(
        "staff", password="not-used", is_staff=True
    )
    client = Client()
    client.force_login(staff)
    asyncio.run(drive(application, client.cookies["sessionid"].value))
    print("site works")


main()
