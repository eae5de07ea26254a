"""The ``SHOP_MANAGER`` settings dict, merged over documented defaults.

Read settings through :func:`get_config`; it is cached and the cache is cleared
whenever Django's ``setting_changed`` fires, so ``override_settings`` works.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

__all__ = ["DEFAULTS", "WEBSOCKET_ROUTE", "get_config", "import_from_setting"]

SETTING_NAME = "SHOP_MANAGER"
# The dashboard socket's route in shop_manager.routing; a host that mounts
# websocket_urlpatterns at its root serves it at "/" + this (WEBSOCKET_PATH).
WEBSOCKET_ROUTE = "ws/products/"

DEFAULTS: dict[str, Any] = {
    # Dotted path to the permission policy class (see shop_manager.permissions).
    "PERMISSION_POLICY": "shop_manager.permissions.StaffPolicy",
    # When True, anonymous users must log in to see products.
    "LOGIN_REQUIRED": False,
    # Products per page on the list.
    "PAGE_SIZE": 25,
    # Quantity at or under which a product without its own threshold is "low stock".
    "LOW_STOCK_THRESHOLD": 5,
    # Products expiring within this many days are flagged "expiring soon".
    "EXPIRING_SOON_DAYS": 30,
    # How pages show prices: an ISO 4217 CODE, the SYMBOL people read and a
    # FORMAT placing {symbol} (or {code}) around the {amount}; None shows
    # plain amounts (shop_manager.money, docs/configuration.md).
    "CURRENCY": {"CODE": "USD", "SYMBOL": "$", "FORMAT": "{symbol}{amount}"},
    # Where committed product events go; aliases like CHANNEL_LAYERS.
    "NOTIFIERS": {
        "default": {"BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier"},
    },
    # The CHANNEL_LAYERS alias the dashboard socket and channel-layer notifier use.
    "CHANNEL_LAYER": "default",
    # Where the host mounted shop_manager.routing.websocket_urlpatterns.
    "WEBSOCKET_PATH": "/" + WEBSOCKET_ROUTE,
    # Events the dashboard page renders before it goes live.
    "DASHBOARD_EVENTS": 50,
    # Most events one replay or gap-fill frame carries; the client asks again for more.
    "REPLAY_LIMIT": 500,
    # Seconds between heartbeats carrying the latest logged id.
    "HEARTBEAT_SECONDS": 5,
    # Seconds between re-checks that every connected user may still watch.
    "REVALIDATE_SECONDS": 30,
    # Dashboard sockets one user may hold open at once (a staff member with
    # several tabs and devices); counted across every server process on the
    # channel layer's Redis, per process otherwise. None: no limit.
    "SOCKETS_PER_USER": 20,
    # Largest CSV file the import accepts, in bytes and in rows (the page and
    # the command).
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 100_000,
    # Who may download the catalogue as CSV: "managers" (who may add or
    # change products) or "viewers" (whoever may see the list).
    "EXPORT_ALLOWED": "managers",
    # Webhooks (docs/webhooks.md). Allow endpoints on loopback, private and
    # link-local addresses (development only: otherwise a URL can reach the
    # host's internal services).
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False,
    # Longest one delivery may take, connecting included.
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    # Most of a response body the relay reads (kept as the error text).
    "WEBHOOK_MAX_RESPONSE_BYTES": 65536,
    # Backoff after a failure: this many seconds, doubled per consecutive
    # failure up to the maximum, with random jitter.
    "WEBHOOK_BACKOFF_SECONDS": 5,
    "WEBHOOK_BACKOFF_MAX_SECONDS": 3600,
    # Pause an endpoint after this many consecutive failures, or once it has
    # been failing this long, whichever comes first.
    "WEBHOOK_PAUSE_AFTER_FAILURES": 15,
    "WEBHOOK_PAUSE_AFTER_SECONDS": 3 * 24 * 3600,
    # Delivery attempts older than this are deleted by the relay.
    "WEBHOOK_ATTEMPTS_KEEP_DAYS": 30,
    # How often an idle relay looks for new events and endpoints.
    "WEBHOOK_POLL_SECONDS": 1,
    # How long a relay's claim on an endpoint lasts unless renewed: after a
    # crash, another relay (or the restarted one) takes over after this.
    "WEBHOOK_LEASE_SECONDS": 30,
    # Events read from the log per query.
    "WEBHOOK_BATCH_SIZE": 100,
    # How long a rotated-out secret keeps signing, by default.
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 24 * 3600,
}


@cache
def get_config() -> dict[str, Any]:
    """Return the merged settings: the user's ``SHOP_MANAGER`` over ``DEFAULTS``."""
    user_config = getattr(settings, SETTING_NAME, None) or {}
    if not isinstance(user_config, dict):
        raise ImproperlyConfigured(
            f"{SETTING_NAME} must be a dict, not {type(user_config).__name__}."
        )
    return {**DEFAULTS, **user_config}


def import_from_setting(key: str) -> Any:
    """Import the object named by the dotted path in ``SHOP_MANAGER[key]``.

    The error names the setting and the path, so a typo is found at once.
    """
    path = get_config()[key]
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"Could not import {path!r} for {SETTING_NAME}[{key!r}]: {exc}"
        ) from exc


@receiver(setting_changed)
def _clear_cached_config(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        get_config.cache_clear()
