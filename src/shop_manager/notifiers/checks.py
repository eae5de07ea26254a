"""System checks for ``SHOP_MANAGER["NOTIFIERS"]`` (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from shop_manager.checks import settings_are_a_dict
from shop_manager.conf import SETTING_NAME, get_config
from shop_manager.notifiers import (
    NOTIFIER_KEYS,
    BaseNotifier,
    InvalidNotifierBackendError,
    NotifierHandler,
)

__all__ = ["check_notifiers"]


@register(Tags.compatibility)
def check_notifiers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
    config = get_config()
    configured = config["NOTIFIERS"]
    if not isinstance(configured, dict):
        return [
            Error(
                f"{SETTING_NAME}['NOTIFIERS'] must be a dict of aliases, not "
                f"{type(configured).__name__}.",
                hint='e.g. {"default": {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier"}}',
                id="shop_manager.E016",
            )
        ]
    errors: list[CheckMessage] = []
    handler = NotifierHandler()
    backends: list[BaseNotifier] = []
    for alias, entry in configured.items():
        if isinstance(entry, dict):
            errors.extend(
                Error(
                    f"{SETTING_NAME}['NOTIFIERS'][{alias!r}] has a key {key!r}, "
                    "which notifier entries do not use.",
                    hint="An entry takes 'BACKEND' and 'OPTIONS', in capitals.",
                    id="shop_manager.E010",
                )
                for key in sorted(set(entry) - NOTIFIER_KEYS, key=repr)
            )
        try:
            backend = handler[alias]
        except (
            InvalidNotifierBackendError,
            TypeError,
            ValueError,
            AttributeError,
        ) as exc:
            errors.append(Error(str(exc), id="shop_manager.E006"))
            continue
        backends.append(backend)
        errors.extend(_option_errors(backend))
    if len(backends) == len(configured) and not any(
        backend.feeds_dashboard for backend in backends
    ):
        errors.append(
            Warning(
                f"No notifier in {SETTING_NAME}['NOTIFIERS'] sends to the live "
                "dashboard.",
                hint="The dashboard still says it is live, but shows a change only "
                f"at the next heartbeat (every {config['HEARTBEAT_SECONDS']} s). Add "
                '{"BACKEND": "shop_manager.live.notifier.'
                'ChannelLayerNotifier"} on the CHANNEL_LAYER the dashboard uses.',
                id="shop_manager.W005",
            )
        )
    return errors


def _option_errors(backend: BaseNotifier) -> list[CheckMessage]:
    """E011: options the backend would ignore."""
    entry = f"{SETTING_NAME}['NOTIFIERS'][{backend.alias!r}]"
    accepted = type(backend).accepted_options
    if accepted is None:
        return []
    reads = ", ".join(repr(key) for key in sorted(accepted)) or "no options"
    return [
        Error(
            f"{entry}['OPTIONS'] has {key!r}, which "
            f"{type(backend).__name__} does not read.",
            hint=f"It reads {reads}.",
            id="shop_manager.E011",
        )
        for key in sorted(set(backend.options) - accepted, key=repr)
    ]
