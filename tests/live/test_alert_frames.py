"""Stock alerts on the dashboard socket: the event that raises one carries
it, and a dismissal reaches every other open dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from channels.db import database_sync_to_async

import shop_manager
from tests.helpers.products import create, update
from tests.helpers.sockets import connect
from tests.helpers.users import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SCHEMA = json.loads(
    (
        Path(shop_manager.__file__).parent
        / "static/shop_manager/schema/live-protocol.json"
    ).read_text(encoding="utf-8")
)


async def test_a_drop_to_zero_arrives_as_an_alert(staff_user, disconnect_after):
    tea = await create("Tea", quantity=9)
    socket = await connect(await login(staff_user))
    disconnect_after(socket)
    await socket.receive_json_from()  # heartbeat

    await update(tea, quantity=0)

    frame = await socket.receive_json_from(timeout=2)
    jsonschema.validate(frame, SCHEMA)
    assert frame["product"]["name"] == "Tea"
    assert frame["alerts"] == {
        "entered": ["out_of_stock"],
        "cleared": [],
        "conditions": ["out_of_stock"],
        "quantity": 0,
        "expiry_date": None,
        "expiry_display": "—",
    }


async def test_a_dismissal_reaches_the_other_open_dashboards(
    staff_user, django_user_model, disconnect_after
):
    tea = await create("Tea", quantity=0)
    colleague = await database_sync_to_async(django_user_model.objects.create_user)(
        username="bea", password="x", is_staff=True, first_name="Bea"
    )
    watching = await connect(await login(colleague))
    disconnect_after(watching)
    await watching.receive_json_from()  # heartbeat

    client = await login(staff_user)
    answer = await database_sync_to_async(client.post)(
        "/dashboard/products/alerts/dismiss/",
        {"product": tea.pk, "condition": "out_of_stock"},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 200

    frame = await watching.receive_json_from(timeout=2)
    jsonschema.validate(frame, SCHEMA)
    assert frame == {
        "type": "alert_dismissed",
        "product": tea.pk,
        "condition": "out_of_stock",
        "by": "staff",
    }
