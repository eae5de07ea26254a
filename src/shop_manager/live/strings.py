"""Every word dashboard.js shows, translated on the server for the active
language (the page's reader's) and handed to the page as a ``json_script``:
the script itself holds no English, and a host needs no JavaScript catalogue
URL. An event's words come from :mod:`shop_manager.changelog.rendering`: the
script words each event from its codes, whatever language the frame is in."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language, gettext, ngettext, pgettext

from shop_manager.changelog.rendering import (
    TRANSLATION_SETTINGS,
    alert_details,
    field_labels,
    headline_templates,
)
from shop_manager.models import ProductEvent

__all__ = ["RECONNECT_MAX_SECONDS", "dashboard_strings"]

# live-socket.js waits at most this long between reconnect attempts
# (MAX_BACKOFF_MS); the dashboard's countdown shows every whole second up to it.
RECONNECT_MAX_SECONDS = 30


def dashboard_strings() -> dict[str, Any]:
    """The script's strings; ``%(name)s`` placeholders are filled in by it.

    Looked up once per language (some fifty messages), not on every
    dashboard page: the same until Django reloads its translations."""
    return dict(_strings(get_language()))


@lru_cache(maxsize=64)
def _strings(language: str | None) -> dict[str, Any]:
    return {
        "status": {
            "connecting": gettext("Connecting…"),
            "live": pgettext("dashboard connection", "Live"),
            "offline": gettext("Offline, reconnecting…"),
            "closed": gettext("Disconnected: you may no longer watch this dashboard."),
        },
        # Indexed by the whole seconds left: plural rules differ by language
        # (one/few/many…), and the range is small, so gettext picks each form
        # here instead of the script guessing.
        "retry_in": [
            ngettext(
                "Next attempt in %(seconds)s second.",
                "Next attempt in %(seconds)s seconds.",
                seconds,
            )
            % {"seconds": seconds}
            for seconds in range(RECONNECT_MAX_SECONDS + 1)
        ],
        "actions": {value: str(label) for value, label in ProductEvent.Action.choices},
        "headlines": headline_templates(),
        "fields": field_labels(),
        "by_actor": gettext("by %(actor)s"),
        "by_nobody": gettext("by nobody (system)"),
        "loading_older": gettext("Loading older changes…"),
        "older_failed": gettext("Could not load older changes. Try again."),
        # A stock alert's words beside the product's name, with %(quantity)s
        # and %(date)s, as the page's panel words them.
        "alerts": alert_details(),
        "dismiss": gettext("Dismiss"),
        "dismiss_label": gettext("Dismiss the alert for %(name)s"),
        "dismiss_failed": gettext("Could not dismiss the alert. Try again."),
    }


@receiver(setting_changed)
def _forget_strings(*, setting: str, **kwargs: Any) -> None:
    if setting in TRANSLATION_SETTINGS:
        _strings.cache_clear()
