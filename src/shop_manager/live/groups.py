"""Channel-layer group names, in one place for the notifier, consumer and
access receivers."""

from __future__ import annotations

import hashlib

__all__ = ["DASHBOARD_GROUP", "session_group"]

# Every server process listens here, on one channel: the events, and the
# messages that take access away, in one ordered stream.
DASHBOARD_GROUP = "shop_manager.products"


def session_group(session_key: str) -> str:
    """The name a logout's ``access.revoked`` gives the session.

    No channel joins it: the message goes to the dashboard group, and each
    process looks the name up among its own sockets.
    """
    # Hashed: a session key is a credential and must not show in Redis; and a
    # signed-cookie "key" (the whole cookie) is no valid group name.
    digest = hashlib.sha256(session_key.encode()).hexdigest()
    return f"shop_manager.session.{digest}"
