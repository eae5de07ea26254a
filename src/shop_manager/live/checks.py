"""System checks for the live dashboard: its socket's path, Channels and the
ASGI application, its channel layer and its own settings (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from shop_manager.checks import (
    interval_errors,
    settings_are_a_dict,
    whole_number_errors,
)
from shop_manager.conf import SETTING_NAME, WEBSOCKET_ROUTE, get_config

__all__ = ["check_channel_layer", "check_live_settings", "check_server"]

# Whole-number settings, and the smallest value each takes.
INTEGER_SETTINGS = {"DASHBOARD_EVENTS": 1, "REPLAY_LIMIT": 1}
# In seconds: any positive number.
INTERVAL_SETTINGS = ("HEARTBEAT_SECONDS", "REVALIDATE_SECONDS")


@register(Tags.compatibility)
def check_live_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
    errors = whole_number_errors(INTEGER_SETTINGS)
    errors.extend(interval_errors(INTERVAL_SETTINGS))
    errors.extend(_websocket_path_errors(get_config()["WEBSOCKET_PATH"]))
    errors.extend(_socket_limit_errors(get_config()["SOCKETS_PER_USER"]))
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
            id="shop_manager.E021",
        )
    ]


def _websocket_path_errors(path: Any) -> list[CheckMessage]:
    if not isinstance(path, str) or not path.startswith("/"):
        return [
            Error(
                f"{SETTING_NAME}['WEBSOCKET_PATH'] must be a path starting with "
                f"'/', not {path!r}.",
                hint=f"The dashboard appends it to the page's host: {WEBSOCKET_ROUTE!r} "
                f"would connect to ws://example.com{WEBSOCKET_ROUTE}.",
                id="shop_manager.E008",
            )
        ]
    if not path.endswith("/"):
        return [
            Warning(
                f"{SETTING_NAME}['WEBSOCKET_PATH'] {path!r} does not end with '/', "
                f"but shop_manager.routing's route does ({WEBSOCKET_ROUTE!r}).",
                hint="Unless you routed the consumer yourself without the slash, "
                "the dashboard's socket will find no route: add the '/'.",
                id="shop_manager.W004",
            )
        ]
    return []


@register(Tags.compatibility)
def check_server(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    # The package's URLconf includes the live dashboard, which needs an ASGI
    # server with Channels; under WSGI its page says "Connecting…" forever.
    errors: list[CheckMessage] = []
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
def check_channel_layer(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
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
