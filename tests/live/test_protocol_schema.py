"""The shipped JSON Schema of the live protocol describes what the consumer
really sends, and docs/protocol.md's examples are frames it accepts.

A host writes its own dashboard client from docs/protocol.md and
``static/shop_manager/schema/live-protocol.json``; if either drifts from the
consumer (a key renamed, added or dropped), that client breaks silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from jsonschema import Draft202012Validator

from shop_manager.live.consumer import CLOSE_FORBIDDEN, CLOSE_TOO_MANY_SOCKETS
from shop_manager.live.protocol import event_text, frames_text, heartbeat_text
from shop_manager.models import Product, ProductEvent
from tests.helpers.doc_snippets import DOCS_DIR, json_blocks
from tests.helpers.sockets import connect, next_event, next_frame
from tests.helpers.users import login

SCHEMA_PATH = "shop_manager/schema/live-protocol.json"
MODEL_POLICY = {"PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"}
Connect = Callable[[Any, str], Coroutine[Any, Any, WebsocketCommunicator]]


def load_schema() -> dict[str, Any]:
    path = finders.find(SCHEMA_PATH)
    assert path, f"{SCHEMA_PATH} is not among the package's static files"
    schema: dict[str, Any] = json.loads(Path(str(path)).read_text())
    return schema


def validator(definition: str | None = None) -> Draft202012Validator:
    """The whole schema, or one of its ``$defs`` (``server_frame``, …)."""
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    if definition is not None:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    return Draft202012Validator(
        schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid(frame: Any, definition: str) -> None:
    errors = [error.message for error in validator(definition).iter_errors(frame)]
    assert not errors, f"{frame} breaks the schema: {errors}"


# The schema file -------------------------------------------------------------


def test_the_schema_is_served_with_the_packages_static_files():
    schema = load_schema()
    assert {
        "server_frame",
        "client_frame",
        "event",
        "batch",
        "heartbeat",
        "frames",
    } <= set(schema["$defs"])


@pytest.mark.parametrize(
    ("frame", "definition"),
    [
        ({"type": "heartbeat"}, "server_frame"),
        ({"type": "heartbeat", "last_id": -1}, "server_frame"),
        ({"type": "heartbeat", "last_id": 3, "extra": 1}, "server_frame"),
        ({"type": "fetch", "after": "3"}, "client_frame"),
        ({"type": "fetch", "after": 2**63}, "client_frame"),
        ({"type": "subscribe"}, "client_frame"),
        # One frame is sent as itself; frames do not nest.
        (
            {"type": "frames", "frames": [{"type": "heartbeat", "last_id": 1}]},
            "server_frame",
        ),
        (
            {
                "type": "frames",
                "frames": [
                    {"type": "heartbeat", "last_id": 1},
                    {"type": "frames", "frames": []},
                ],
            },
            "server_frame",
        ),
    ],
)
def test_the_schema_refuses_frames_the_protocol_does_not_have(frame, definition):
    assert list(validator(definition).iter_errors(frame))


# docs/protocol.md ------------------------------------------------------------


def test_every_example_in_the_protocol_page_is_a_valid_frame():
    examples = json_blocks(DOCS_DIR / "protocol.md")
    whole = validator()
    for example in examples:
        errors = [error.message for error in whole.iter_errors(example)]
        assert not errors, f"docs/protocol.md example {example} is invalid: {errors}"
    assert {example["type"] for example in examples} == {
        "event",
        "batch",
        "heartbeat",
        "alert_dismissed",
        "frames",
        "fetch",
        "presence",
    }, "the page shows an example of every frame"


# Real frames from the consumer -----------------------------------------------


@pytest.fixture
def open_socket(disconnect_after: Any) -> Connect:
    """Opens one dashboard socket at a time; each is disconnected at the end."""

    async def open_for(user: Any, query: str) -> WebsocketCommunicator:
        socket = await connect(await login(user), query)
        disconnect_after(socket)
        return socket

    return open_for


@database_sync_to_async
def create_tea() -> Product:
    return Product.objects.create(
        name="Tea",
        price=Decimal("3.50"),
        cost_price=Decimal("1.20"),
        quantity=4,
        supplier_number="SUP-1",
        expiry_date="2027-01-31",
    )


@database_sync_to_async
def update(product: Product, **fields: Any) -> None:
    product.refresh_from_db()
    for field, value in fields.items():
        setattr(product, field, value)
    product.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_every_frame_the_consumer_sends_staff_matches_the_schema(
    staff_user, open_socket
):
    tea = await create_tea()

    watching = await open_socket(staff_user, "")
    heartbeat = await watching.receive_json_from()
    assert heartbeat["type"] == "heartbeat"
    assert_valid(heartbeat, "server_frame")

    await update(tea, quantity=9, price=Decimal("3.75"), cost_price=Decimal("1.30"))
    live = await next_event(watching)
    assert live["type"] == "event"
    assert "cost_price" in live["changes"]
    assert_valid(live, "server_frame")

    fetch = {"type": "fetch", "after": 0}
    assert_valid(fetch, "client_frame")
    await watching.send_json_to(fetch)
    gap_fill, _ = await next_frame(watching, lambda f: f["type"] == "batch")
    assert [event["action"] for event in gap_fill["events"]] == ["created", "updated"]
    assert_valid(gap_fill, "server_frame")

    replaying = await open_socket(staff_user, "?after=0")
    replay = await replaying.receive_json_from()
    assert replay["type"] == "batch"
    assert_valid(replay, "server_frame")

    await database_sync_to_async(Product.objects.filter(pk=tea.pk).delete)()
    deleted = await next_event(watching)
    assert (deleted["action"], deleted["product"]["url"]) == ("deleted", None)
    assert_valid(deleted, "server_frame")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_presence_frames_match_the_schema(staff_user, open_socket):
    tea = await create_tea()
    editing = await open_socket(staff_user, "")
    await editing.receive_json_from()
    hello = {"type": "presence", "product": tea.pk}
    assert_valid(hello, "client_frame")
    await editing.send_json_to(hello)
    presence = await editing.receive_json_from(timeout=2)
    assert presence == {"type": "presence", "product": tea.pk, "editors": []}
    assert_valid(presence, "server_frame")
    assert list(validator("client_frame").iter_errors(presence))


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_frames_without_costs_match_the_schema(
    settings, regular_user, open_socket
):
    """A watcher who may not see costs gets the redacted frames; those are
    protocol frames too (an update of costs alone has empty ``changes``)."""
    settings.SHOP_MANAGER = MODEL_POLICY
    await database_sync_to_async(regular_user.user_permissions.add)(
        await database_sync_to_async(Permission.objects.get)(codename="watch_dashboard")
    )
    tea = await create_tea()

    socket = await open_socket(regular_user, "?after=0")
    replay = await socket.receive_json_from()
    assert "cost_price" not in replay["events"][0]["changes"]
    assert_valid(replay, "server_frame")

    await update(tea, cost_price=Decimal("1.30"))
    cost_only = await next_event(socket)
    assert cost_only["changes"] == {}
    assert_valid(cost_only, "server_frame")


@pytest.mark.django_db
def test_several_queued_frames_make_one_valid_frames_message():
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    event = ProductEvent.objects.get(product_pk=tea.pk)
    texts = [event_text(event), heartbeat_text(event.pk)]
    message = json.loads(frames_text(texts))
    assert_valid(message, "server_frame")
    assert message["frames"] == [json.loads(text) for text in texts]
    assert frames_text(texts[:1]) == texts[0]


def test_the_servers_close_codes_are_in_the_schema_and_the_protocol_page():
    """A host's client tells "stop" (4403) from "retry later" (4429) by the
    code: both are described where it looks, and no other is sent."""
    codes = {CLOSE_FORBIDDEN, CLOSE_TOO_MANY_SOCKETS}
    described = {
        choice["const"] for choice in load_schema()["$defs"]["close_code"]["oneOf"]
    }
    assert described == codes
    for code in codes:
        assert validator("close_code").is_valid(code)
    assert not validator("close_code").is_valid(4000)
    page = (DOCS_DIR / "protocol.md").read_text()
    for code in codes:
        assert f"| `{code}` |" in page
