"""Notifier backends: where committed product events are announced.

Configured like ``CHANNEL_LAYERS``/``STORAGES``::

    SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {"BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier"},
            "audit": {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier",
                      "OPTIONS": {"LOGGER": "shop.audit"}},
        }
    }

Every backend gets every committed event: :func:`notify` receives the change
log's ``events_committed`` signal. Backends run in the site's language
(``settings.LANGUAGE_CODE``), not that of whoever saved the change. One that
raises is logged and the others still run; nothing here can fail the save
that made the event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from asgiref.local import Local
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.connection import BaseConnectionHandler
from django.utils.module_loading import import_string

from shop_manager.changelog.rendering import site_language
from shop_manager.changelog.signals import events_committed
from shop_manager.conf import SETTING_NAME, get_config
from shop_manager.notifiers.base import BaseNotifier

if TYPE_CHECKING:
    from shop_manager.models import ProductEvent

    _HandlerBase = BaseConnectionHandler[BaseNotifier]
else:
    # Django's class is not subscriptable at run time; only mypy needs the type.
    _HandlerBase = BaseConnectionHandler

__all__ = [
    "NOTIFIER_KEYS",
    "BaseNotifier",
    "InvalidNotifierBackendError",
    "NotifierHandler",
    "notifiers",
    "notify",
    "outbox",
]

logger = logging.getLogger("shop_manager.notifiers")

# What the locmem backend has sent, like django.core.mail.outbox.
outbox: list[ProductEvent] = []

# The keys a NOTIFIERS entry may have, as in CHANNEL_LAYERS and STORAGES.
NOTIFIER_KEYS = frozenset({"BACKEND", "OPTIONS"})


class InvalidNotifierBackendError(ImproperlyConfigured):
    """A ``NOTIFIERS`` entry names a backend that cannot be built."""


class NotifierHandler(_HandlerBase):
    """Builds each configured backend on first use and keeps it: Django's
    alias registry for ``CACHES`` and ``DATABASES``, over ``NOTIFIERS``."""

    settings_name = "NOTIFIERS"
    exception_class = InvalidNotifierBackendError

    def configure_settings(self, settings: Any) -> Any:
        return get_config()["NOTIFIERS"] if settings is None else settings

    def __getitem__(self, alias: str) -> BaseNotifier:
        if alias not in self.settings:
            raise InvalidNotifierBackendError(
                f"Could not find config for notifier {alias!r} in {SETTING_NAME}['NOTIFIERS']."
            )
        backend: BaseNotifier = super().__getitem__(alias)
        return backend

    def create_connection(self, alias: str) -> BaseNotifier:
        return self.create(alias, self.settings[alias])

    def create(self, alias: str, config: Any) -> BaseNotifier:
        entry = f"{SETTING_NAME}['NOTIFIERS'][{alias!r}]"
        if not isinstance(config, dict):
            raise InvalidNotifierBackendError(
                f"{entry} must be a dict with a 'BACKEND' key, not "
                f"{type(config).__name__}."
            )
        if "BACKEND" not in config:
            others = ", ".join(repr(key) for key in config if key not in NOTIFIER_KEYS)
            raise InvalidNotifierBackendError(
                f"{entry} has no 'BACKEND' key"
                + (f" (it has {others}: misspelt?)." if others else ".")
            )
        path = config["BACKEND"]
        options = config.get("OPTIONS", {})
        if not isinstance(options, dict):
            raise InvalidNotifierBackendError(
                f"{entry}['OPTIONS'] must be a dict, not {type(options).__name__}."
            )
        try:
            backend_class = import_string(path if isinstance(path, str) else "")
        except ImportError as exc:
            raise InvalidNotifierBackendError(
                f"Could not find backend {path!r} for notifier {alias!r}: {exc}"
            ) from exc
        if not (
            isinstance(backend_class, type) and issubclass(backend_class, BaseNotifier)
        ):
            raise InvalidNotifierBackendError(
                f"Backend {path!r} for notifier {alias!r} is not a BaseNotifier subclass."
            )
        return backend_class(alias, options)

    def reset(self) -> None:
        """Forget the settings and every built backend (``setting_changed``)."""
        self.__dict__.pop("settings", None)
        self._settings = None
        self._connections = Local(self.thread_critical)


notifiers = NotifierHandler()


@receiver(events_committed, dispatch_uid="shop_manager.notifiers.notify")
def notify(
    events: Sequence[ProductEvent], *, bulk: bool = False, **kwargs: Any
) -> None:
    """Hand committed events to every backend; log, never raise, on failure.

    ``bulk`` (an import, via ``changelog.announced_together``) asks each
    backend for one bounded notice (``send_bulk``) instead of one per event.
    """
    try:
        aliases = list(notifiers.settings)
    except Exception:
        logger.exception(
            "Notifier backends could not be built; events were logged only."
        )
        return
    with site_language():
        for alias in aliases:
            _notify_one(alias, events, bulk=bulk)


def _notify_one(alias: str, events: Sequence[ProductEvent], *, bulk: bool) -> None:
    # Built one by one: a misconfigured backend must not silence the others.
    try:
        backend = notifiers[alias]
    except Exception:
        logger.exception("Notifier %r could not be built; the others still run.", alias)
        return
    try:
        if bulk:
            backend.send_bulk(events)
        else:
            backend.send_many(events)
    except Exception:
        logger.exception(
            "Notifier %r failed to send event(s) %s; they stay in the change log.",
            alias,
            ", ".join(str(event.pk) for event in events),
        )


@receiver(setting_changed)
def _reset_notifiers(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        notifiers.reset()
