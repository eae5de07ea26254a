"""System checks for misconfiguration we can foresee. Ids are documented in
docs/checks.md; each has a test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from shop_manager.conf import DEFAULTS, SETTING_NAME, get_config, import_from_setting

if TYPE_CHECKING:
    from shop_manager.notifiers import BaseNotifier

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
# Settings that must be whole numbers, and the smallest value each accepts.
INTEGER_SETTINGS = {
    "PAGE_SIZE": 1,
    "LOW_STOCK_THRESHOLD": 0,
    "EXPIRING_SOON_DAYS": 0,
    "DASHBOARD_EVENTS": 1,
    "REPLAY_LIMIT": 1,
    "IMPORT_MAX_BYTES": 1,
    "WEBHOOK_MAX_RESPONSE_BYTES": 1,
    "WEBHOOK_PAUSE_AFTER_FAILURES": 1,
    "WEBHOOK_BATCH_SIZE": 1,
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 0,
}
# Intervals in seconds (WEBHOOK_ATTEMPTS_KEEP_DAYS in days): any positive number.
INTERVAL_SETTINGS = (
    "HEARTBEAT_SECONDS",
    "REVALIDATE_SECONDS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "WEBHOOK_BACKOFF_SECONDS",
    "WEBHOOK_BACKOFF_MAX_SECONDS",
    "WEBHOOK_PAUSE_AFTER_SECONDS",
    "WEBHOOK_ATTEMPTS_KEEP_DAYS",
    "WEBHOOK_POLL_SECONDS",
    "WEBHOOK_LEASE_SECONDS",
)


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
    config = get_config()
    try:
        import_from_setting("PERMISSION_POLICY")
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="shop_manager.E002"))
    for key, minimum in INTEGER_SETTINGS.items():
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            errors.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be a whole number of at least "
                    f"{minimum}, not {value!r}.",
                    id="shop_manager.E003",
                )
            )
    for key in INTERVAL_SETTINGS:
        value = config[key]
        if not _is_positive_number(value):
            errors.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be a positive number of "
                    f"{'days' if key.endswith('_DAYS') else 'seconds'}, not {value!r}.",
                    id="shop_manager.E003",
                )
            )
    errors.extend(_webhook_errors(config))
    errors.extend(_websocket_path_errors(config["WEBSOCKET_PATH"]))
    errors.extend(_socket_limit_errors(config["SOCKETS_PER_USER"]))
    login_required = config["LOGIN_REQUIRED"]
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


def _is_positive_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def _webhook_errors(config: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    allow = config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]
    if not isinstance(allow, bool):
        errors.append(
            Error(
                f"{SETTING_NAME}['WEBHOOK_ALLOW_PRIVATE_ADDRESSES'] must be True or "
                f"False, not {allow!r}.",
                hint="A string such as 'false' is truthy: webhooks could reach the "
                "host's internal services.",
                id="shop_manager.E013",
            )
        )
    timeout, lease = config["WEBHOOK_TIMEOUT_SECONDS"], config["WEBHOOK_LEASE_SECONDS"]
    if (
        _is_positive_number(timeout)
        and _is_positive_number(lease)
        and timeout * 2 > lease
    ):
        errors.append(
            Error(
                f"{SETTING_NAME}['WEBHOOK_LEASE_SECONDS'] ({lease!r}) must be at least "
                f"twice WEBHOOK_TIMEOUT_SECONDS ({timeout!r}).",
                hint="A relay renews its lease on an endpoint between requests; a "
                "request that outlived the lease would let a second relay deliver "
                "to the same endpoint at the same time.",
                id="shop_manager.E014",
            )
        )
    return errors


def _socket_limit_errors(limit: Any) -> list[CheckMessage]:
    if limit is None or (
        isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1
    ):
        return []
    return [
        Error(
            f"{SETTING_NAME}['SOCKETS_PER_USER'] must be None or a whole number "
            f"of at least 1, not {limit!r}.",
            hint="It is how many dashboard sockets one user may hold open at "
            "once (20 by default); None lifts the limit. 0 would refuse every "
            "dashboard.",
            id="shop_manager.E015",
        )
    ]


def _websocket_path_errors(path: Any) -> list[CheckMessage]:
    if not isinstance(path, str) or not path.startswith("/"):
        return [
            Error(
                f"{SETTING_NAME}['WEBSOCKET_PATH'] must be a path starting with "
                f"'/', not {path!r}.",
                hint="The dashboard appends it to the page's host: 'ws/products/' "
                "would connect to ws://example.comws/products/.",
                id="shop_manager.E008",
            )
        ]
    if not path.endswith("/"):
        return [
            Warning(
                f"{SETTING_NAME}['WEBSOCKET_PATH'] {path!r} does not end with '/', "
                "but shop_manager.routing's route does ('ws/products/').",
                hint="Unless you routed the consumer yourself without the slash, "
                "the dashboard's socket will find no route: add the '/'.",
                id="shop_manager.W004",
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
    # The package's URLconf includes the live dashboard, which needs an ASGI
    # server with Channels; under WSGI its page says "Connecting…" forever.
    if not apps.is_installed("channels"):
        errors.append(
            Warning(
                "'channels' is not in INSTALLED_APPS.",
                hint="The live dashboard runs on Channels: add 'channels' (and "
                "'daphne' first, for an ASGI runserver) to INSTALLED_APPS.",
                id="shop_manager.W007",
            )
        )
    if not getattr(settings, "ASGI_APPLICATION", None):
        errors.append(
            Warning(
                "ASGI_APPLICATION is not set, so the live dashboard has no "
                "websocket to connect to under runserver.",
                hint="Set ASGI_APPLICATION = 'mysite.asgi.application' and route "
                "shop_manager.routing.websocket_urlpatterns there "
                "(docs/installation.md).",
                id="shop_manager.W006",
            )
        )
    return errors


@register(Tags.compatibility)
def check_notifiers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    from shop_manager.notifiers import (
        NOTIFIER_KEYS,
        InvalidNotifierBackendError,
        NotifierHandler,
    )

    if not _settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
    config = get_config()
    configured = config["NOTIFIERS"]
    if not isinstance(configured, dict):
        return [
            Error(
                f"{SETTING_NAME}['NOTIFIERS'] must be a dict of aliases.",
                hint='e.g. {"default": {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier"}}',
                id="shop_manager.E006",
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
        errors.extend(_notifier_errors(backend))
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


def _notifier_errors(backend: BaseNotifier) -> list[CheckMessage]:
    """Options the backend would ignore."""
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


@register(Tags.compatibility)
def check_channel_layer(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not _settings_are_a_dict():
        return []
    alias = get_config()["CHANNEL_LAYER"]
    layers = getattr(settings, "CHANNEL_LAYERS", {}) or {}
    if alias not in layers:
        return [
            Error(
                f"CHANNEL_LAYERS has no {alias!r} layer, which the live dashboard uses.",
                hint="Add one (channels.layers.InMemoryChannelLayer for one process, "
                "channels_redis for several) or set SHOP_MANAGER['CHANNEL_LAYER'].",
                id="shop_manager.E007",
            )
        ]
    layer = layers[alias]
    if layer.get("BACKEND") != "channels_redis.core.RedisChannelLayer":
        return []
    if _redis_major_version() < 8:
        return []
    warnings: list[CheckMessage] = []
    hosts = [
        _host_options(host) for host in layer.get("CONFIG", {}).get("hosts") or [None]
    ]
    brpop_timeout = layer.get("CONFIG", {}).get("brpop_timeout", 5)
    if any(_read_timeout(host) <= brpop_timeout for host in hosts):
        warnings.append(
            Warning(
                f"CHANNEL_LAYERS[{alias!r}] will drop idle websockets every few seconds.",
                hint="redis-py 8 defaults socket_timeout to 5 s, the length of "
                "channels-redis' blocking reads, so idle reads time out and the socket "
                "closes with 1011. Give each host a longer timeout, e.g. "
                '{"address": "redis://...", "socket_timeout": 30}.',
                id="shop_manager.W002",
            )
        )
    if any("max_connections" not in host for host in hosts):
        warnings.append(
            Warning(
                f"CHANNEL_LAYERS[{alias!r}] refuses websockets when more than 100 "
                "connect at once.",
                hint="redis-py 8 caps each connection pool at 100 and raises "
                "MaxConnectionsError beyond it instead of waiting; this layer takes a "
                "connection per command in flight, so a burst of reconnects (a server "
                "restart) fails handshakes with 500. Give each host a larger pool, e.g. "
                '{"address": "redis://...", "max_connections": 1000}, or use '
                "channels_redis.pubsub.RedisPubSubChannelLayer.",
                id="shop_manager.W003",
            )
        )
    return warnings


def _settings_are_a_dict() -> bool:
    return isinstance(getattr(settings, SETTING_NAME, None) or {}, dict)


def _redis_major_version() -> int:
    try:
        from redis import __version__ as redis_version
    except ImportError:  # pragma: no cover - channels-redis requires redis
        return 0
    return int(redis_version.split(".")[0])


def _host_options(host: Any) -> dict[str, Any]:
    """A channels-redis host's connection options, from its dict and its URL."""
    if isinstance(host, str):
        host = {"address": host}
    if not isinstance(host, dict):
        return {}
    query = parse_qs(urlsplit(str(host.get("address", ""))).query)
    return {**host, **{key: values[0] for key, values in query.items()}}


def _read_timeout(host: dict[str, Any]) -> float:
    timeout = host.get("socket_timeout", 5)  # redis-py 8's default
    return float("inf") if timeout is None else float(timeout)
