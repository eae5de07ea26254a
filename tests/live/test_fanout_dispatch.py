"""The fan-out's dispatch: each message between processes reaches the
handler its type names (as Channels names them), and nothing else does."""

from __future__ import annotations

import pytest

from shop_manager.live import fanout


class Watcher:
    user_pk = 1
    session_key = "a"
    valid_at = 0

    def __init__(self, *, sees_costs: bool = True) -> None:
        self.frames: list[str] = []
        self.sees_costs = sees_costs
        self.revoked = False

    def deliver(self, text: str) -> None:
        self.frames.append(text)

    def cut_off(self) -> None:
        self.revoked = True


def hub_with(*watchers: Watcher) -> fanout.LocalFanout:
    hub = fanout.LocalFanout()
    for watcher in watchers:
        hub.recipients.add(watcher)
        hub.barrier.joined(watcher)
    return hub


def test_each_message_type_reaches_the_handler_it_names(monkeypatch):
    """Dispatch by type, as Channels does: product.event → product_event."""
    sees, blind = Watcher(), Watcher(sees_costs=False)
    hub = hub_with(sees, blind)
    hub.sessions = {"shop_manager.session.a": {blind}}
    rechecks: list[int | None] = []
    monkeypatch.setattr(hub.barrier, "want", rechecks.append)

    hub._handle(
        {
            "type": "product.event",
            "id": 3,
            "generation": 0,
            "text": "all",
            "redacted": "some",
        }
    )
    assert (sees.frames, blind.frames) == (["all"], ["some"])
    hub._handle({"type": "access.recheck", "generation": 4})
    assert rechecks == [4]
    hub._handle({"type": "access.revoked", "group": "shop_manager.session.a"})
    assert (sees.revoked, blind.revoked) == (False, True)
    # Cut off at once: the next event no longer reaches it.
    hub._handle({"type": "product.event", "id": 4, "generation": 0, "text": "next"})
    assert (sees.frames, blind.frames) == (["all", "next"], ["some"])


@pytest.mark.parametrize(
    "message",
    [
        {"type": "join"},  # A method of the fan-out, but no message type.
        {"type": "leave"},
        {"type": "product_event", "text": "x"},  # A handler's name, not a type.
        {"type": "other.message"},
        {"type": ["product.event"]},
        {"type": "product.event", "text": 1},
        {"type": "product.event", "text": "x", "redacted": 1},
        {"type": "access.revoked", "group": 1},
        # No access generation (a process of an older version): no socket can
        # be known to be cleared for it; the heartbeat's gap fill brings it.
        {"type": "product.event", "text": "x"},
        {"type": "product.event", "text": "x", "generation": "1"},
        {},
    ],
)
def test_a_message_of_no_known_type_or_shape_is_ignored(message, monkeypatch):
    watcher = Watcher()
    hub = hub_with(watcher)
    hub.sessions = {"1": {watcher}}
    monkeypatch.setattr(hub.barrier, "want", lambda _: pytest.fail("re-checked"))
    hub._handle(message)
    assert watcher.frames == []
    assert not watcher.revoked
