"""An endpoint's state in words: the admin's "state" column and
``shop_manager_webhooks list`` both say it this way."""

from __future__ import annotations

from django.utils.translation import gettext, ngettext

from shop_manager.webhooks.models import WebhookEndpoint

__all__ = ["state_text"]


def state_text(endpoint: WebhookEndpoint) -> str:
    """ "ok", "inactive", "paused: HTTP 500" or "retrying (1 failure): HTTP 502"."""
    if not endpoint.active:
        return gettext("inactive")
    if endpoint.is_paused:
        return _with_error(gettext("paused"), endpoint.last_error)
    if endpoint.failures:
        retrying = ngettext(
            "retrying (%(count)d failure)",
            "retrying (%(count)d failures)",
            endpoint.failures,
        ) % {"count": endpoint.failures}
        return _with_error(retrying, endpoint.last_error)
    return gettext("ok")


def _with_error(state: str, error: str) -> str:
    if not error:
        return state
    return gettext("%(state)s: %(error)s") % {"state": state, "error": error}
