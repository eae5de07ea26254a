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
from shop_manager.money import InvalidCurrencyError, resolve_currency

__all__ = [
    "check_dependencies",
    "check_middleware_chain",
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
    errors.extend(_currency_errors(get_config()["CURRENCY"]))
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


def _currency_errors(value: Any) -> list[CheckMessage]:
    try:
        resolve_currency(value)
    except InvalidCurrencyError as exc:
        return [
            Error(
                f"{SETTING_NAME}['CURRENCY'] {exc}.",
                hint="Every page shows prices with it; e.g. {'CODE': 'EUR', "
                "'SYMBOL': '€', 'FORMAT': '{amount} {symbol}'}, or None for plain "
                "amounts (docs/configuration.md).",
                id="shop_manager.E020",
            )
        ]
    return []


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


@register(Tags.compatibility)
def check_database_connection_reuse(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    return _unchecked_reuse_warnings(settings.DATABASES)


def _unchecked_reuse_warnings(databases: dict[str, Any]) -> list[CheckMessage]:
    """W008: a database whose connections are kept for reuse (psycopg's pool,
    or CONN_MAX_AGE) without checking them before each reuse."""
    warnings: list[CheckMessage] = []
    for alias, database in databases.items():
        if "sqlite3" in str(database.get("ENGINE", "")):
            continue  # A file: its connections do not die with a server.
        options = database.get("OPTIONS") or {}
        pool = options.get("pool") if isinstance(options, dict) else None
        pool_checks = isinstance(pool, dict) and pool.get("check") is not None
        if pool:
            reused_by = "psycopg's pool"
            checked = pool_checks or database.get("CONN_HEALTH_CHECKS", False)
        elif database.get("CONN_MAX_AGE", 0) != 0:
            reused_by = "CONN_MAX_AGE"
            checked = database.get("CONN_HEALTH_CHECKS", False)
        else:
            continue
        if not checked:
            warnings.append(
                Warning(
                    f"DATABASES[{alias!r}] reuses connections ({reused_by}) "
                    "without checking them.",
                    hint="After a database restart or outage, dead connections are "
                    "handed out again: pages fail with 500, and so do dashboard "
                    "handshakes (Channels' AuthMiddleware reads the session), until "
                    "each has failed once. Set CONN_HEALTH_CHECKS = True; with the "
                    'pool on Django 6.1+, also "check": shop_manager.pool_check.'
                    "check_pooled_connection in its options (docs/deployment.md).",
                    id="shop_manager.W008",
                )
            )
    return warnings


SYNC_CHAIN_MIDDLEWARE = "shop_manager.middleware.SyncChainMiddleware"


@register(Tags.compatibility)
def check_middleware_chain(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    return _sync_chain_warnings(list(getattr(settings, "MIDDLEWARE", [])))


def _sync_chain_warnings(middleware: list[str]) -> list[CheckMessage]:
    """W009: the sync chain middleware somewhere but last."""
    if (
        SYNC_CHAIN_MIDDLEWARE not in middleware
        or middleware[-1] == SYNC_CHAIN_MIDDLEWARE
    ):
        return []
    after = middleware[middleware.index(SYNC_CHAIN_MIDDLEWARE) + 1 :]
    return [
        Warning(
            f"{SYNC_CHAIN_MIDDLEWARE} is not last in MIDDLEWARE.",
            hint=f"Under ASGI the middleware after it ({', '.join(after)}) still "
            "run async, a round trip to the event loop per method. Move it to "
            "the end (docs/deployment.md).",
            id="shop_manager.W009",
        )
    ]
