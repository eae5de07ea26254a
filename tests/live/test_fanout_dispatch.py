"""The fan-out's dispatch: each message between processes reaches the
handler its type names (as Channels names them), and nothing else does."""

from __future__ import annotations

import pytest

from shop_manager.live import fanout


class Watcher:
    def __init__(self, *, sees_costs: bool = True) -> None:
        self.frames: list[str] = []
        self.sees_costs = sees_costs
        self.revoked = False

    def deliver(self, text: str) -> None:
        self.frames.append(text)

    def revoke_soon(self) -> None:
        self.revoked = True


def test_each_message_type_reaches_the_handler_it_names():
    """Dispatch by type, as Channels does: product.event → product_event."""
    hub = fanout.LocalFanout()
    sees, blind = Watcher(), Watcher(sees_costs=False)
    hub.recipients = {sees, blind}
    hub.sessions = {"shop_manager.session.a": {blind}}
    rechecks: list[str] = []
    hub.on_recheck = lambda: rechecks.append("recheck")

    hub._handle({"type": "product.event", "id": 3, "text": "all", "redacted": "some"})
    assert (sees.frames, blind.frames) == (["all"], ["some"])
    hub._handle({"type": "access.recheck"})
    assert rechecks == ["recheck"]
    hub._handle({"type": "access.revoked", "group": "shop_manager.session.a"})
    assert (sees.revoked, blind.revoked) == (False, True)


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
        {},
    ],
)
def test_a_message_of_no_known_type_or_shape_is_ignored(message):
    hub = fanout.LocalFanout()
    watcher = Watcher()
    hub.recipients = {watcher}
    hub.sessions = {"1": {watcher}}
    hub.on_recheck = lambda: pytest.fail("re-checked")
    hub._handle(message)
    assert watcher.frames == []
    assert not watcher.revoked
