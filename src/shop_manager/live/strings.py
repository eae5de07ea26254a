"""Every word dashboard.js shows, translated on the server for the active
language and handed to the page as a ``json_script``: the script itself holds
no English, and a host needs no JavaScript catalogue URL."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

from shop_manager.models import ProductEvent

__all__ = ["RECONNECT_MAX_SECONDS", "dashboard_strings", "event_headline"]

# dashboard.js waits at most this long between reconnect attempts
# (MAX_BACKOFF_MS); its countdown shows every whole second up to it.
RECONNECT_MAX_SECONDS = 30


def event_headline(action: str, name: str) -> str:
    """What happened, without the diff: "Product 'Tea' was updated"."""
    template = _HEADLINES.get(action)
    return str(template) % {"name": name} if template else f"{name}: {action}"


# Lazy, so each headline looks up one translation, in the active language.
_HEADLINES: dict[str, Any] = {
    ProductEvent.Action.CREATED: gettext_lazy("Product '%(name)s' was created"),
    ProductEvent.Action.UPDATED: gettext_lazy("Product '%(name)s' was updated"),
    ProductEvent.Action.DELETED: gettext_lazy("Product '%(name)s' was deleted"),
}


def dashboard_strings() -> dict[str, Any]:
    """The script's strings; ``%(name)s`` placeholders are filled in by it."""
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
        "headlines": {action: str(text) for action, text in _HEADLINES.items()},
        "by_actor": gettext("by %(actor)s"),
        "by_nobody": gettext("by nobody (system)"),
        "loading_older": gettext("Loading older changes…"),
        "older_failed": gettext("Could not load older changes. Try again."),
    }
