"""The package's own system checks (settings, apps, middleware), and what
every feature's checks share.

Each feature checks its own settings next to its code: ``live/checks.py``,
``notifiers/checks.py``, ``webhooks/checks.py``, ``transfer/checks.py``, all
registered by ``ShopManagerConfig.ready()``. Ids are documented in
docs/checks.md; each names exactly one condition, is never reused, and has a
test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from shop_manager.conf import DEFAULTS, SETTING_NAME, get_config, import_from_setting

__all__ = [
    "check_dependencies",
    "check_settings",
    "interval_errors",
    "settings_are_a_dict",
    "whole_number_errors",
]

REQUIRED_APPS = {
    "django.contrib.auth": "login and the permission policy",
    "django.contrib.contenttypes": "django.contrib.auth",
    "django.contrib.sessions": "login",
    "django.contrib.messages": "the messages shown after a save",
}
REQUIRED_MIDDLEWARE = {
    "django.contrib.sessions.middleware.SessionMiddleware": "login",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "request.user",
    "django.contrib.messages.middleware.MessageMiddleware": "messages",
}
# The product pages' whole-number settings, and the smallest value each takes.
INTEGER_SETTINGS = {
    "PAGE_SIZE": 1,
    "LOW_STOCK_THRESHOLD": 0,
    "EXPIRING_SOON_DAYS": 0,
}


def settings_are_a_dict() -> bool:
    """Whether ``SHOP_MANAGER`` can be read at all (E001 says when not)."""
    return isinstance(getattr(settings, SETTING_NAME, None) or {}, dict)


def whole_number_errors(minimums: Mapping[str, int]) -> list[CheckMessage]:
    """E003: each setting of ``minimums`` that is not a whole number at or
    above its minimum."""
    config = get_config()
    return [
        Error(
            f"{SETTING_NAME}[{key!r}] must be a whole number of at least "
            f"{minimum}, not {config[key]!r}.",
            id="shop_manager.E003",
        )
        for key, minimum in minimums.items()
        if isinstance(config[key], bool)
        or not isinstance(config[key], int)
        or config[key] < minimum
    ]


def interval_errors(keys: Iterable[str]) -> list[CheckMessage]:
    """E015: each interval (seconds; days for a ``_DAYS`` key) that is not a
    positive number."""
    config = get_config()
    return [
        Error(
            f"{SETTING_NAME}[{key!r}] must be a positive number of "
            f"{'days' if key.endswith('_DAYS') else 'seconds'}, not {config[key]!r}.",
            id="shop_manager.E015",
        )
        for key in keys
        if not is_positive_number(config[key])
    ]


def is_positive_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


@register(Tags.compatibility)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    user_config = getattr(settings, SETTING_NAME, None) or {}
    if not isinstance(user_config, dict):
        return [
            Error(
                f"{SETTING_NAME} must be a dict.",
                hint=f"It is a {type(user_config).__name__}.",
                id="shop_manager.E001",
            )
        ]
    errors: list[CheckMessage] = [
        Warning(
            f"{SETTING_NAME}[{key!r}] is not a setting django-shop-manager knows.",
            hint="Check its spelling against docs/configuration.md.",
            id="shop_manager.W001",
        )
        for key in sorted(set(user_config) - set(DEFAULTS))
    ]
    try:
        import_from_setting("PERMISSION_POLICY")
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="shop_manager.E002"))
    errors.extend(whole_number_errors(INTEGER_SETTINGS))
    login_required = get_config()["LOGIN_REQUIRED"]
    if not isinstance(login_required, bool):
        errors.append(
            Error(
                f"{SETTING_NAME}['LOGIN_REQUIRED'] must be True or False, "
                f"not {login_required!r}.",
                hint="A string such as 'false' is truthy: every page would ask "
                "for a login.",
                id="shop_manager.E009",
            )
        )
    return errors


@register(Tags.compatibility)
def check_dependencies(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = [
        Error(
            f"{app!r} must be in INSTALLED_APPS.",
            hint=f"django-shop-manager needs it for {why}.",
            id="shop_manager.E004",
        )
        for app, why in REQUIRED_APPS.items()
        if not apps.is_installed(app)
    ]
    middleware = set(getattr(settings, "MIDDLEWARE", []))
    errors.extend(
        Error(
            f"{name!r} must be in MIDDLEWARE.",
            hint=f"django-shop-manager needs it for {why}.",
            id="shop_manager.E005",
        )
        for name, why in REQUIRED_MIDDLEWARE.items()
        if name not in middleware
    )
    return errors
