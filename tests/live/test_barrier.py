"""The barrier: an event goes to a process's sockets only once every one of
them was checked at the access generation it carries or later; until then it
waits, in order, while one pass re-checks them (the database stood in for by
a fake, so each case says exactly which generation and verdicts a pass
reads)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shop_manager.live import barrier as barrier_module
from shop_manager.live.barrier import Barrier
from shop_manager.live.protocol import EventMessage

pytestmark = pytest.mark.asyncio


class Socket:
    def __init__(self, user_pk: int, valid_at: int = 0) -> None:
        self.user_pk = user_pk
        self.session_key = f"session-{user_pk}"
        self.valid_at = valid_at
        self.sees_costs = True
        self.cut = False

    @property
    def identity(self) -> tuple[int, str]:
        return (self.user_pk, self.session_key)

    def cut_off(self) -> None:
        self.cut = True


class Database:
    """What each pass reads: the generation, and who may still watch (user
    pk → sees costs). ``gate`` holds a pass until the test opens it."""

    def __init__(self, generation: int = 0) -> None:
        self.generation = generation
        self.watchers: dict[int, bool] = {}
        self.passes = 0
        # When set up, each pass waits for the gate and closes it behind it.
        self.gate: asyncio.Event | None = None
        # Set when a pass starts reading.
        self.reading = asyncio.Event()
        self.failures = 0
        # The user pks each pass checked.
        self.checked: list[list[int]] = []

    def __call__(self, sockets: Any) -> tuple[int, dict[Any, bool]]:
        self.passes += 1
        self.checked.append(sorted(pk for pk, _ in sockets))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database restarting")
        return self.generation, {
            socket: self.watchers[socket[0]]
            for socket in sockets
            if socket[0] in self.watchers
        }


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Database:
    database = Database()

    async def checked(sockets: Any) -> tuple[int, dict[Any, bool]]:
        database.reading.set()
        if database.gate is not None:
            await database.gate.wait()
            database.gate.clear()
        return database(sockets)

    # The pass reads through database_sync_to_async(checked_sockets).
    monkeypatch.setattr(barrier_module, "database_sync_to_async", lambda _: checked)
    monkeypatch.setattr(barrier_module, "RETRY_SECONDS", 0.01)
    return database


class Fanout:
    """The fan-out's side: its sockets, and who got which event."""

    def __init__(self, *sockets: Socket) -> None:
        self.recipients: set[Any] = set()
        self.relayed: list[tuple[str, list[int]]] = []
        self.drops = 0
        self.barrier = Barrier(self.recipients, self.relay, self.dropped)
        for socket in sockets:
            self.join(socket)

    def join(self, socket: Socket) -> None:
        self.recipients.add(socket)
        self.barrier.joined(socket)

    def relay(self, news: EventMessage) -> None:
        self.relayed.append(
            (news.text, sorted(socket.user_pk for socket in self.recipients))
        )

    def dropped(self) -> None:
        self.drops += 1

    def event(self, text: str, generation: int | None) -> None:
        news = EventMessage(text, text, None, generation)
        if self.barrier.admits(news):
            self.relay(news)

    async def settled(self) -> None:
        task = self.barrier._task
        if task is not None:
            await task


async def test_an_event_the_sockets_were_checked_for_goes_out_at_once(database):
    fanout = Fanout(Socket(1, valid_at=3), Socket(2, valid_at=5))
    fanout.event("a", generation=3)
    fanout.event("b", generation=0)
    assert fanout.relayed == [("a", [1, 2]), ("b", [1, 2])]
    assert fanout.barrier._task is None
    assert database.passes == 0


async def test_a_later_event_waits_for_the_pass_which_closes_the_revoked_first(
    database,
):
    kept, revoked = Socket(1, valid_at=3), Socket(2, valid_at=3)
    fanout = Fanout(kept, revoked)
    database.generation = 4
    database.watchers = {1: False}  # User 2 lost access; user 1 lost costs.
    database.gate = asyncio.Event()
    fanout.event("after the revocation", generation=4)
    fanout.event("and one more", generation=3)  # Older, but it came after.
    assert fanout.relayed == []
    database.gate.set()
    await fanout.settled()
    assert revoked.cut
    assert revoked not in fanout.recipients
    assert (kept.cut, kept.sees_costs, kept.valid_at) == (False, False, 4)
    assert fanout.relayed == [("after the revocation", [1]), ("and one more", [1])]
    assert database.passes == 1
    fanout.event("later", generation=4)
    assert fanout.relayed[-1] == ("later", [1])  # At once again.


async def test_a_burst_of_rechecks_makes_one_pass(database):
    fanout = Fanout(Socket(1))
    database.generation = 10
    database.watchers = {1: True}
    for generation in range(1, 11):
        fanout.barrier.want(generation)
    await fanout.settled()
    assert database.passes == 1
    fanout.barrier.want(10)  # Already checked at 10: nothing to do.
    assert fanout.barrier._task is None


async def test_a_recheck_newer_than_the_running_pass_makes_one_more(database):
    """The revocation it announces may have committed after that pass read
    the database."""
    fanout = Fanout(Socket(1))
    database.watchers = {1: True}
    database.generation = 1
    database.gate = asyncio.Event()
    fanout.barrier.want(1)
    await database.reading.wait()  # The first pass reads generation 1.
    database.reading.clear()
    fanout.event("after the second revocation", generation=2)
    fanout.barrier.want(2)
    database.gate.set()
    await database.reading.wait()  # The second pass reads generation 2.
    assert fanout.relayed == []
    database.generation = 2
    database.gate.set()
    await fanout.settled()
    assert database.passes == 2
    assert fanout.relayed == [("after the second revocation", [1])]


async def test_a_lagging_generation_holds_on_without_spinning(database, caplog):
    """A read replica behind the primary answers an older generation than
    the event carries: the event waits, and passes are spaced out."""
    fanout = Fanout(Socket(1))
    database.watchers = {1: True}
    database.generation = 1
    database.gate = asyncio.Event()
    fanout.event("logged at 2", generation=2)
    database.gate.set()  # The first pass reads 1.
    await database.reading.wait()
    database.reading.clear()
    await database.reading.wait()  # A second pass, a retry later.
    assert fanout.relayed == []
    database.generation = 2
    database.gate.set()
    await fanout.settled()
    assert fanout.relayed == [("logged at 2", [1])]
    assert "older than an event's" in caplog.text


async def test_a_failing_pass_keeps_holding_and_tries_again(database, caplog):
    fanout = Fanout(Socket(1))
    database.watchers = {1: True}
    database.generation = 1
    database.failures = 2
    fanout.event("held", generation=1)
    await fanout.settled()
    assert database.passes == 3
    assert fanout.relayed == [("held", [1])]
    assert "Could not re-check the dashboard sockets" in caplog.text


async def test_the_periodic_recheck_holds_nothing_back(database):
    socket = Socket(1, valid_at=2)
    fanout = Fanout(socket)
    database.watchers = {1: True}
    database.generation = 2
    database.gate = asyncio.Event()
    fanout.barrier.want(None)
    fanout.event("during the pass", generation=2)
    assert fanout.relayed == [("during the pass", [1])]
    database.gate.set()
    await fanout.settled()
    assert database.passes == 1


async def test_the_periodic_recheck_closes_what_no_signal_announced(database):
    expired = Socket(1, valid_at=2)
    fanout = Fanout(expired)
    database.generation = 2  # Nothing bumped: an expired session, say.
    fanout.barrier.want(None)
    await fanout.settled()
    assert expired.cut


async def test_sockets_opened_since_the_last_pass_are_checked_and_only_they(
    database,
):
    """A socket opened after the last pass counts as checked at no
    generation: the next event newer than that waits for a pass that checks
    the new sockets (one whose user was revoked meanwhile is cut off), not
    the one already checked at the event's generation."""
    fanout = Fanout(Socket(1, valid_at=5))
    revoked, kept = Socket(2), Socket(3)
    fanout.join(revoked)
    fanout.join(kept)
    fanout.event("at 0", generation=0)  # Logged before any revocation.
    assert fanout.relayed == [("at 0", [1, 2, 3])]
    database.generation = 5
    database.watchers = {1: True, 3: True}  # User 2 lost access meanwhile.
    fanout.event("at 5", generation=5)
    assert fanout.relayed == [("at 0", [1, 2, 3])]
    await fanout.settled()
    assert database.checked == [[2, 3]]
    assert revoked.cut
    assert not kept.cut
    assert fanout.relayed[-1] == ("at 5", [1, 3])


async def test_an_event_without_a_generation_is_dropped(database):
    fanout = Fanout(Socket(1))
    fanout.event("from an older process", generation=None)
    assert fanout.relayed == []
    assert fanout.drops == 1
    assert database.passes == 0


async def test_what_is_held_is_bounded(database, monkeypatch):
    monkeypatch.setattr(barrier_module, "HOLD_LIMIT", 10)
    fanout = Fanout(Socket(1))
    database.watchers = {1: True}
    database.generation = 1
    database.gate = asyncio.Event()
    for text in ("12345", "67890", "dropped"):
        fanout.event(text, generation=1)
    assert fanout.barrier.held_size == 10
    assert fanout.drops == 1
    database.gate.set()
    await fanout.settled()
    assert [text for text, _ in fanout.relayed] == ["12345", "67890"]
    assert fanout.barrier.held_size == 0


async def test_the_last_socket_leaving_drops_what_was_held(database):
    fanout = Fanout(Socket(1))
    database.gate = asyncio.Event()
    fanout.event("held", generation=1)
    fanout.recipients.clear()
    fanout.barrier.emptied()
    assert fanout.barrier.held_size == 0
    assert fanout.barrier._task is None
    fanout.event("nobody here", generation=9)
    assert fanout.relayed == [("nobody here", [])]
