"""Channel-layer group names, in one place for the notifier, consumer and
access receivers."""

from __future__ import annotations

import hashlib

__all__ = ["DASHBOARD_GROUP", "RECHECK_GROUP", "session_group"]

DASHBOARD_GROUP = "shop_manager.products"
# Every server process listens here and re-validates its own sockets when told.
RECHECK_GROUP = "shop_manager.revalidate"


def session_group(session_key: str) -> str:
    # Hashed: a session key is a credential and must not show in Redis; and a
    # signed-cookie "key" (the whole cookie) is no valid group name.
    digest = hashlib.sha256(session_key.encode()).hexdigest()
    return f"shop_manager.session.{digest}"
