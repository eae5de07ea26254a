"""Promise 6 under a fault: Redis is down at the moment access is taken away,
so the revocation's own message is lost. No event logged after the
revocation reaches the revoked sockets all the same: not through a gap fill
(``fetch``) read from the log while Redis is down, nor live once Redis is
back.

Each test runs its own redis-server (the shared one is never stopped), on
both channels-redis layers.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from shop_manager.live.consumer import CLOSE_FORBIDDEN
from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.faults import PUBSUB_RESTART_ON_PY310, pubsub_restart_unreliable
from tests.helpers.sockets import connected, next_frame
from tests.helpers.users import login

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
]

SUPPLIER_AFTER = "SUP-AFTER-REVOCATION-91"


@pytest.fixture(autouse=True)
def _quick(settings: Any) -> None:
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {
                "BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier",
                "OPTIONS": {"TIMEOUT": 0.5},
            }
        },
        "HEARTBEAT_SECONDS": 0.2,
    }


def event_ids(frame: dict[str, Any]) -> list[int]:
    if frame["type"] == "event":
        return [frame["id"]]
    if frame["type"] == "batch":
        return [event["id"] for event in frame["events"]]
    return []


async def frames_until_close(
    socket: WebsocketCommunicator,
) -> tuple[int, list[dict[str, Any]]]:
    """Every frame until the server closes the socket, and the close code."""
    frames: list[dict[str, Any]] = []
    while True:
        output = await socket.receive_output()
        if output["type"] == "websocket.close":
            return int(output["code"]), frames
        message = json.loads(output["text"])
        frames.extend(message["frames"] if message["type"] == "frames" else [message])


@database_sync_to_async
def make_tea() -> Product:
    return Product.objects.create(
        name="Tea", price=Decimal("3.50"), supplier_number="SUP-BEFORE", quantity=4
    )


@database_sync_to_async
def change_supplier(tea: Product, supplier: str) -> int:
    tea.supplier_number = supplier
    tea.save()
    return latest_event_id()


@database_sync_to_async
def demote(user: Any) -> int:
    """Take the user's access away; the newest id before it."""
    user.is_staff = False
    user.save()
    return latest_event_id()


async def test_a_revocation_whose_message_redis_lost_still_holds(
    private_redis, staff_user, admin_user, caplog, settings
):
    """Fault: Redis is killed; a staff member is demoted (the re-check message
    cannot be sent) and a supplier number changes (its live message is lost
    too). Safe: the demoted user's socket that asks the log for the gap gets
    no batch, only 4403; their other socket gets nothing logged after the
    demotion, neither while Redis is down nor once it is back and a later
    change goes out live to an admin, and is closed with 4403."""
    victim = await login(staff_user)
    tea = await make_tea()
    async with (
        connected(victim) as fetching,
        connected(victim) as listening,
    ):
        hello, _ = await next_frame(fetching, lambda f: f["type"] == "heartbeat")
        await next_frame(listening, lambda f: f["type"] == "heartbeat")

        private_redis.kill()
        before = await demote(staff_user)
        first = await change_supplier(tea, SUPPLIER_AFTER)
        assert "Could not send access.recheck" in caplog.text

        # The gap fill reads the log while Redis is down.
        await fetching.send_json_to({"type": "fetch", "after": hello["last_id"]})
        code, frames = await frames_until_close(fetching)
        assert code == CLOSE_FORBIDDEN
        assert [i for frame in frames for i in event_ids(frame)] == []
        assert SUPPLIER_AFTER not in json.dumps(frames)

        if pubsub_restart_unreliable(settings.CHANNEL_LAYERS):
            # What follows needs the process to hear Redis again.
            pytest.skip(PUBSUB_RESTART_ON_PY310)
        private_redis.start()
        admin = await login(admin_user)
        # The admin's socket joins once Redis answers, so the process listens
        # again before the next change goes out.
        async with connected(admin) as witness:
            second = await change_supplier(tea, "SUP-LATER")
            await next_frame(
                witness, lambda f: f["type"] == "event" and f["id"] == second
            )
        code, frames = await frames_until_close(listening)
    assert code == CLOSE_FORBIDDEN
    leaked = [i for frame in frames for i in event_ids(frame) if i > before]
    assert leaked == [], frames
    assert first > before
