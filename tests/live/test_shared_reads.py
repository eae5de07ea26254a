"""Gap fills asked at once share one read of the change log, and never one
that started before they asked."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission

from shop_manager.live.admission import LogRead
from shop_manager.live.shared_reads import SharedReads
from shop_manager.models import Product
from tests.helpers.sockets import connect, next_frame
from tests.helpers.users import login

# database_sync_to_async closes stale connections around every read.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


class CountingReader:
    """Stands in for the log: each read is a new LogRead, counted."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, list[bool]]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, after: int, with_costs: Iterable[bool]) -> LogRead:
        self.reads.append((after, list(with_costs)))
        self.started.set()
        assert self.release.wait(30), "the test never released the read"
        return LogRead(after, [], False, len(self.reads))


async def test_sockets_asking_for_the_same_events_at_once_share_one_read():
    reader = CountingReader()
    shared = SharedReads(reader)

    reads = await asyncio.gather(
        *(shared.read(5, with_costs=n % 2 == 0) for n in range(10)),
        shared.read(9, with_costs=True),
    )

    # One read for after=5, writing both frames its askers need; one for 9.
    assert sorted(reader.reads) == [(5, [False, True]), (9, [True])]
    assert len({id(read) for read in reads[:10]}) == 1


async def test_a_request_made_after_a_read_started_gets_a_read_of_its_own():
    """An event committed after the first read began may be missing from it:
    a socket that asks later must not be answered from it."""
    reader = CountingReader()
    reader.release.clear()
    shared = SharedReads(reader)
    first = asyncio.ensure_future(shared.read(5, with_costs=True))
    assert await asyncio.to_thread(reader.started.wait, 30)

    second = asyncio.ensure_future(shared.read(5, with_costs=True))
    await asyncio.sleep(0)
    reader.release.set()
    first_read, second_read = await first, await second

    assert [after for after, _ in reader.reads] == [5, 5]
    assert first_read is not second_read


async def test_a_failed_read_fails_its_askers_and_the_next_request_reads_again():
    calls = []

    def failing_then_working(after: int, with_costs: Iterable[bool]) -> LogRead:
        calls.append(after)
        if len(calls) == 1:
            raise ConnectionError("database gone")
        return LogRead(after, [], False, 0)

    shared = SharedReads(failing_then_working)
    results = await asyncio.gather(
        shared.read(3, with_costs=True),
        shared.read(3, with_costs=False),
        return_exceptions=True,
    )
    assert [type(result) for result in results] == [ConnectionError] * 2
    assert (await shared.read(3, with_costs=True)).after == 3
    assert calls == [3, 3]


async def test_a_shared_gap_fill_keeps_costs_from_who_may_not_see_them(
    settings, staff_user, regular_user, disconnect_after
):
    """Two sockets, one allowed to see costs and one not, ask for the same
    events at the same moment: each gets its own kind of frame."""
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    for user, codenames in (
        (regular_user, ["watch_dashboard"]),
        (staff_user, ["watch_dashboard", "view_product_costs"]),
    ):
        for codename in codenames:
            permission = await database_sync_to_async(Permission.objects.get)(
                codename=codename
            )
            await database_sync_to_async(user.user_permissions.add)(permission)
    await database_sync_to_async(Product.objects.create)(
        name="Tea", price=Decimal("3.50"), cost_price=Decimal("1.20"), quantity=4
    )
    sockets = [
        await connect(await login(staff_user)),
        await connect(await login(regular_user)),
    ]
    disconnect_after(*sockets)
    for socket in sockets:
        await socket.receive_json_from()  # The opening heartbeat.

    await asyncio.gather(
        *(socket.send_json_to({"type": "fetch", "after": 0}) for socket in sockets)
    )
    batches = [
        (await next_frame(socket, lambda frame: frame["type"] == "batch"))[0]
        for socket in sockets
    ]

    costs, without = (batch["events"][0]["changes"] for batch in batches)
    assert "cost_price" in costs
    assert "cost_price" not in without
