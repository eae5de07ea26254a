"""SHOP_MANAGER settings and the system checks that guard them."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from shop_manager.conf import DEFAULTS, get_config

pytestmark = pytest.mark.django_db


def check_ids() -> set[str]:
    return {
        message.id for message in run_checks() if message.id.startswith("shop_manager")
    }


def test_defaults_and_overrides(settings):
    assert get_config() == DEFAULTS
    settings.SHOP_MANAGER = {"PAGE_SIZE": 10}
    assert get_config()["PAGE_SIZE"] == 10
    assert get_config()["LOW_STOCK_THRESHOLD"] == DEFAULTS["LOW_STOCK_THRESHOLD"]


def test_good_configuration_passes_every_check():
    assert check_ids() == set()


@pytest.mark.parametrize(
    ("config", "check_id"),
    [
        ({"PAGE_SIZ": 10}, "shop_manager.W001"),
        ({"PERMISSION_POLICY": "no.such.Policy"}, "shop_manager.E002"),
        ({"PAGE_SIZE": 0}, "shop_manager.E003"),
        ({"LOW_STOCK_THRESHOLD": "5"}, "shop_manager.E003"),
        ({"EXPIRING_SOON_DAYS": True}, "shop_manager.E003"),
        ({"HEARTBEAT_SECONDS": 0}, "shop_manager.E003"),
        ({"REVALIDATE_SECONDS": "soon"}, "shop_manager.E003"),
    ],
)
def test_bad_settings_are_reported(settings, config, check_id):
    settings.SHOP_MANAGER = config
    assert check_id in check_ids()


def test_non_dict_setting(settings):
    settings.SHOP_MANAGER = ["PAGE_SIZE"]
    assert check_ids() == {"shop_manager.E001"}
    with pytest.raises(ImproperlyConfigured, match="must be a dict"):
        get_config()


def test_missing_apps_and_middleware(settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "django.contrib.messages"
    ]
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if "SessionMiddleware" not in m
    ]
    assert {"shop_manager.E004", "shop_manager.E005"} <= check_ids()


# The dashboard's channel layer and notifiers ---------------------------------


def dashboard_check_ids() -> list[str]:
    return sorted(
        m.id
        for m in run_checks()
        if m.id
        in {
            "shop_manager.E006",
            "shop_manager.E007",
            "shop_manager.W002",
            "shop_manager.W003",
        }
    )


def redis_layer(host: object, backend: str = "channels_redis.core.RedisChannelLayer"):
    return {"default": {"BACKEND": backend, "CONFIG": {"hosts": [host]}}}


def big_pool(host: dict[str, object]) -> dict[str, object]:
    """A host that W003 has nothing to say about."""
    return {**host, "max_connections": 1000}


@override_settings(
    CHANNEL_LAYERS=redis_layer(big_pool({"address": "redis://r:6379/0"}))
)
def test_w002_a_redis_host_without_a_long_socket_timeout(monkeypatch):
    monkeypatch.setattr("redis.__version__", "8.0.0")
    assert dashboard_check_ids() == ["shop_manager.W002"]


@pytest.mark.parametrize(
    "host",
    [
        big_pool({"address": "redis://r:6379/0", "socket_timeout": 5}),
        "redis://r:6379/0?max_connections=500",
        "redis://r:6379/0?socket_timeout=3&max_connections=500",
    ],
)
def test_w002_other_spellings_of_a_short_timeout(settings, monkeypatch, host):
    monkeypatch.setattr("redis.__version__", "8.0.0")
    settings.CHANNEL_LAYERS = redis_layer(host)
    assert dashboard_check_ids() == ["shop_manager.W002"]


@pytest.mark.parametrize(
    ("layers", "version"),
    [
        (
            redis_layer(
                big_pool({"address": "redis://r:6379/0", "socket_timeout": 30})
            ),
            "8.0.0",
        ),
        (
            redis_layer("redis://r:6379/0?socket_timeout=30&max_connections=500"),
            "8.0.0",
        ),
        (
            redis_layer(
                big_pool({"address": "redis://r:6379/0", "socket_timeout": None})
            ),
            "8.0.0",
        ),
        (redis_layer({"address": "redis://r:6379/0"}), "7.4.0"),
        (
            redis_layer(
                {"address": "redis://r:6379/0"},
                "channels_redis.pubsub.RedisPubSubChannelLayer",
            ),
            "8.0.0",
        ),
    ],
    ids=["long-timeout", "long-timeout-in-url", "no-timeout", "redis-7", "pubsub"],
)
def test_w002_w003_quiet_when_reads_cannot_time_out_nor_run_out(
    settings, monkeypatch, layers, version
):
    monkeypatch.setattr("redis.__version__", version)
    settings.CHANNEL_LAYERS = layers
    assert dashboard_check_ids() == []


@pytest.mark.parametrize(
    "host",
    [
        {"address": "redis://r:6379/0", "socket_timeout": 30},
        "redis://r:6379/0?socket_timeout=30",
    ],
)
def test_w003_a_list_layer_host_with_redis_8s_100_connection_pool(
    settings, monkeypatch, host
):
    monkeypatch.setattr("redis.__version__", "8.0.0")
    settings.CHANNEL_LAYERS = redis_layer(host)
    assert dashboard_check_ids() == ["shop_manager.W003"]


@pytest.mark.parametrize(
    ("channel_layers", "shop_manager"),
    [
        ({}, {}),
        (
            {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
            {"CHANNEL_LAYER": "dashboard"},
        ),
    ],
    ids=["no-layers", "unknown-alias"],
)
def test_e007_the_dashboard_layer_is_missing(settings, channel_layers, shop_manager):
    settings.CHANNEL_LAYERS = channel_layers
    settings.SHOP_MANAGER = shop_manager
    assert dashboard_check_ids() == ["shop_manager.E007"]


@pytest.mark.parametrize(
    "notifiers",
    [
        {"default": {"BACKEND": "shop_manager.notifiers.nope.Nope"}},
        {"default": {"BACKEND": "shop_manager.models.Product"}},
        {"default": {}},
        {
            "default": {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier"},
            "x": {"BACKEND": "missing"},
        },
        ["not", "a", "dict"],
    ],
    ids=["missing-module", "not-a-notifier", "no-backend", "one-bad", "not-a-dict"],
)
def test_e006_a_notifier_cannot_be_built(settings, notifiers):
    settings.SHOP_MANAGER = {"NOTIFIERS": notifiers}
    assert dashboard_check_ids() == ["shop_manager.E006"]
