"""Channel-layer group names, in one place for the notifier, consumer and
access receivers."""

from __future__ import annotations

from typing import Any

__all__ = ["DASHBOARD_GROUP", "session_group", "user_group"]

DASHBOARD_GROUP = "shop_manager.products"


def user_group(user_pk: Any) -> str:
    return f"shop_manager.user.{user_pk}"


def session_group(session_key: str) -> str:
    return f"shop_manager.session.{session_key}"
