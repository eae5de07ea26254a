"""Redis hung or killed under a running site: saves go on, the change log
keeps every change, and dashboards catch up once Redis is back.

Each test runs its own redis-server (the shared one is never stopped) and
saves through the product form. Already covered elsewhere: fake layers that
hang or refuse (tests/notifiers/test_backends.py::test_a_redis_outage_neither_fails_nor_holds_a_save),
and a browser dashboard across a Redis stop and start on a real server
process (tests/e2e/test_browser.py::test_change_saved_while_redis_was_down_reaches_the_dashboard).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from shop_manager.live.fanout import fanout_for_running_loop
from shop_manager.live.feed import latest_event_id
from shop_manager.live.ticker import ticker_for_running_loop
from shop_manager.models import Product, ProductEvent
from tests.helpers.faults import PUBSUB_RESTART_ON_PY310, pubsub_restart_unreliable
from tests.helpers.layers import FAULT_SOCKET_TIMEOUT
from tests.helpers.products import product_form
from tests.helpers.sockets import connected, next_frame
from tests.helpers.users import login
from tests.helpers.waiting import HANG_BOUND

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
]

NOTIFIER_TIMEOUT = 0.5
# redis-py gives up on an unanswered command after the layer's socket_timeout
# (FAULT_SOCKET_TIMEOUT here, four times HANG_BOUND); a save must not wait
# for that. HANG_BOUND tells the two apart however loaded the machine is.
assert FAULT_SOCKET_TIMEOUT > 2 * HANG_BOUND


@pytest.fixture(autouse=True)
def _quick_notifier(settings: Any) -> None:
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {
                "BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier",
                "OPTIONS": {"TIMEOUT": NOTIFIER_TIMEOUT},
            }
        },
        "HEARTBEAT_SECONDS": 0.2,
    }


async def post(client: Client, path: str, data: dict[str, Any]) -> int:
    """POST like a browser; return the status, checking it did not hang."""
    started = time.monotonic()
    response = await database_sync_to_async(client.post)(path, data)
    assert time.monotonic() - started < HANG_BOUND
    return int(response.status_code)


async def save_quantity(client: Client, product: Product, quantity: int) -> int:
    await database_sync_to_async(product.refresh_from_db)()
    return await post(
        client, product.get_absolute_url(), product_form(product, quantity=quantity)
    )


@database_sync_to_async
def create(name: str, quantity: int = 4) -> Product:
    return Product.objects.create(name=name, price=Decimal("3.50"), quantity=quantity)


@database_sync_to_async
def events_after(after: int) -> list[tuple[int, str, str]]:
    return list(
        ProductEvent.objects.filter(id__gt=after).values_list(
            "id", "action", "product_name"
        )
    )


latest = database_sync_to_async(latest_event_id)


def failed_after(caplog: pytest.LogCaptureFixture, after: int) -> list[int]:
    """The ids past ``after`` whose announcement was logged as failed, once
    per failure. (Before the outage a loaded machine can also log one: the
    layer's first connection slower than the notifier's timeout.)"""
    ids = [
        int(pk)
        for record in caplog.records
        if "stay in the change log" in record.getMessage()
        for pk in str(record.args[1]).split(", ")
    ]
    return [pk for pk in ids if pk > after]


def is_type(kind: str) -> Any:
    return lambda frame: frame["type"] == kind


async def test_saves_while_redis_hangs_succeed_and_a_dashboard_replays_them(
    private_redis, staff_user, caplog
):
    """Fault: Redis hangs (SIGSTOP: connections open, nothing answered) while
    staff save products through the form. Safe outcome: every save succeeds
    (302) after at most the notifier timeout, each change is in the change log
    and each failed announcement is logged; once Redis answers again, a
    dashboard connecting with ``?after=<id before the outage>`` receives every
    missed event once, in order, and then live events again."""
    client = await login(staff_user)
    tea = await create("Tea", quantity=4)
    before = await latest()

    private_redis.freeze()
    try:
        statuses = [await save_quantity(client, tea, q) for q in (5, 6, 7)]
        statuses.append(
            await post(
                client,
                "/products/create/",
                {"name": "Coffee", "price": "2.00", "cost_price": "0", "quantity": "1"},
            )
        )
    finally:
        private_redis.thaw()

    assert statuses == [302, 302, 302, 302]
    missed = await events_after(before)
    assert [(action, name) for _, action, name in missed] == [
        ("updated", "Tea"),
        ("updated", "Tea"),
        ("updated", "Tea"),
        ("created", "Coffee"),
    ]
    assert failed_after(caplog, before) == [pk for pk, _, _ in missed]

    async with connected(client, f"?after={before}") as socket:
        batch, _ = await next_frame(socket, is_type("batch"))
        assert [event["id"] for event in batch["events"]] == [e[0] for e in missed]
        assert [event["changes"].get("quantity") for event in batch["events"]] == [
            {"old": 4, "new": 5, "label": "quantity"},
            {"old": 5, "new": 6, "label": "quantity"},
            {"old": 6, "new": 7, "label": "quantity"},
            {"old": None, "new": 1, "label": "quantity"},
        ]
        assert await save_quantity(client, tea, 8) == 302
        live, skipped = await next_frame(socket, is_type("event"))
    assert live["id"] == await latest()
    assert live["changes"] == {"quantity": {"old": 7, "new": 8, "label": "quantity"}}
    # Nothing replayed twice: only heartbeats came between the batch and it.
    assert {frame["type"] for frame in skipped} <= {"heartbeat"}


async def test_while_redis_hangs_a_connected_dashboard_still_learns_of_changes(
    private_redis, staff_user
):
    """Fault: Redis hangs (SIGSTOP) while a dashboard is connected, and staff
    save a change, whose live announcement is lost. Safe outcome: the socket's
    heartbeats keep coming from the database, so within a heartbeat it is told
    the new latest id and can fetch the change, all while Redis still hangs.
    (A heartbeat waiting on the hung Redis would stall for redis-py's
    socket_timeout, FAULT_SOCKET_TIMEOUT here.)"""
    client = await login(staff_user)
    tea = await create("Tea", quantity=4)

    async with connected(client) as socket:
        hello, _ = await next_frame(socket, is_type("heartbeat"))
        private_redis.freeze()
        try:
            await next_frame(socket, is_type("heartbeat"))  # One tick into the hang.
            assert await save_quantity(client, tea, 9) == 302
            saved = await latest()
            await next_frame(
                socket,
                lambda f: f["type"] == "heartbeat" and f["last_id"] == saved,
            )
            await socket.send_json_to({"type": "fetch", "after": hello["last_id"]})
            batch, _ = await next_frame(socket, is_type("batch"))
        finally:
            private_redis.thaw()
    assert [event["id"] for event in batch["events"]] == [saved]
    assert batch["events"][0]["changes"] == {
        "quantity": {"old": 4, "new": 9, "label": "quantity"}
    }


async def test_after_redis_is_killed_and_restarted_no_dashboard_is_left_deaf(
    private_redis, staff_user, caplog, settings
):
    """Fault: Redis is killed (SIGKILL) while a dashboard is connected and
    staff keep saving, then restarted on the same port, empty. Safe outcome:
    the saves succeed and are logged; once Redis is back, a socket connecting
    with ``?after=<last id it saw>`` gets the missed changes once, in order,
    then live ones, with nothing restarted; the socket open during the outage
    stays open and gets live events again: never left open but deaf. On both
    layers the process's fan-out listens again as the new socket joins, not
    at its retry (nothing else in the process would reconnect the layer)."""
    if pubsub_restart_unreliable(settings.CHANNEL_LAYERS):
        pytest.skip(PUBSUB_RESTART_ON_PY310)
    client = await login(staff_user)
    tea = await create("Tea", quantity=4)

    async with connected(client) as first:
        hello, _ = await next_frame(first, is_type("heartbeat"))
        private_redis.kill()
        statuses = [await save_quantity(client, tea, q) for q in (5, 6)]
        assert statuses == [302, 302]
        missed = await events_after(hello["last_id"])
        assert [action for _, action, _ in missed] == ["updated", "updated"]
        assert failed_after(caplog, hello["last_id"]) == [pk for pk, _, _ in missed]

        private_redis.start()
        async with connected(client, f"?after={hello['last_id']}") as second:
            batch, _ = await next_frame(second, is_type("batch"))
            assert [e["id"] for e in batch["events"]] == [e[0] for e in missed]
            assert await save_quantity(client, tea, 7) == 302
            live, skipped = await next_frame(second, is_type("event"))
            assert live["id"] == await latest()
            assert live["changes"] == {
                "quantity": {"old": 6, "new": 7, "label": "quantity"}
            }
            assert {frame["type"] for frame in skipped} <= {"heartbeat"}

            # The socket open during the outage has no channel of its own to
            # fail: it stays open and hears live events again.
            await next_frame(
                first, lambda f: f["type"] == "event" and f["id"] == live["id"]
            )
            assert len(fanout_for_running_loop().recipients) == 2
            assert len(ticker_for_running_loop().watchers) == 2
