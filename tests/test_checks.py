"""SHOP_MANAGER settings and the system checks that guard them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from shop_manager.checks import SYNC_CHAIN_MIDDLEWARE as SYNC_CHAIN
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
        ({"HEARTBEAT_SECONDS": 0}, "shop_manager.E015"),
        ({"REVALIDATE_SECONDS": "soon"}, "shop_manager.E015"),
        ({"IMPORT_MAX_BYTES": 0}, "shop_manager.E003"),
        ({"WEBHOOK_BATCH_SIZE": 0}, "shop_manager.E003"),
        ({"WEBHOOK_PAUSE_AFTER_FAILURES": 2.5}, "shop_manager.E003"),
        ({"WEBHOOK_SECRET_OVERLAP_SECONDS": -1}, "shop_manager.E003"),
        ({"WEBHOOK_BACKOFF_SECONDS": 0}, "shop_manager.E015"),
        ({"WEBHOOK_ATTEMPTS_KEEP_DAYS": "30"}, "shop_manager.E015"),
        ({"DASHBOARD_EVENTS": 0}, "shop_manager.E003"),
        ({"REPLAY_LIMIT": 1.5}, "shop_manager.E003"),
        ({"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "false"}, "shop_manager.E013"),
        ({"IMPORT_MAX_ROWS": 0}, "shop_manager.E003"),
        ({"IMPORT_MAX_ROWS": None}, "shop_manager.E003"),
        ({"IMPORT_MAX_ROWS": "100000"}, "shop_manager.E003"),
        ({"EXPORT_ALLOWED": "everyone"}, "shop_manager.E017"),
        ({"EXPORT_ALLOWED": True}, "shop_manager.E017"),
        (
            {"WEBHOOK_TIMEOUT_SECONDS": 20, "WEBHOOK_LEASE_SECONDS": 30},
            "shop_manager.E014",
        ),
    ],
)
def test_bad_settings_are_reported(settings, config, check_id):
    settings.SHOP_MANAGER = config
    assert check_id in check_ids()


@pytest.mark.parametrize("limit", [0, -1, "20", 2.5, True, []])
def test_e021_sockets_per_user_must_be_none_or_a_positive_whole_number(settings, limit):
    """0 would refuse every dashboard; "20" and True are typos for 20."""
    settings.SHOP_MANAGER = {"SOCKETS_PER_USER": limit}
    assert check_ids() == {"shop_manager.E021"}


@pytest.mark.parametrize("limit", [None, 1, 20, 500])
def test_e021_accepts_none_or_a_positive_whole_number(settings, limit):
    settings.SHOP_MANAGER = {"SOCKETS_PER_USER": limit}
    assert check_ids() == set()


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
            "shop_manager.E016",
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
        {"default": ["not", "a", "dict"]},
    ],
    ids=["missing-module", "not-a-notifier", "no-backend", "one-bad", "not-a-dict"],
)
def test_e006_a_notifier_cannot_be_built(settings, notifiers):
    settings.SHOP_MANAGER = {"NOTIFIERS": notifiers}
    assert dashboard_check_ids() == ["shop_manager.E006"]


def test_e016_notifiers_is_not_a_dict_of_aliases(settings):
    settings.SHOP_MANAGER = {"NOTIFIERS": ["not", "a", "dict"]}
    assert dashboard_check_ids() == ["shop_manager.E016"]


@pytest.mark.parametrize("key", ["PAGE_SIZE", "HEARTBEAT_SECONDS"])
def test_one_id_names_one_condition(settings, key):
    """A bad count is E003, a bad interval E015: never the same id for both."""
    settings.SHOP_MANAGER = {key: "x"}
    expected = "shop_manager.E003" if key == "PAGE_SIZE" else "shop_manager.E015"
    assert check_ids() == {expected}


# Settings that used to fail silently -----------------------------------------

CHANNEL_LAYER_NOTIFIER = "shop_manager.live.notifier.ChannelLayerNotifier"
LOGGING_NOTIFIER = "shop_manager.notifiers.log.LoggingNotifier"


def messages_with(check_id: str) -> list[str]:
    return [m.msg for m in run_checks() if m.id == check_id]


@pytest.mark.parametrize("path", ["ws/products/", "", None, 42])
def test_e008_websocket_path_without_a_leading_slash(settings, path):
    """The page would connect to ws://hostws/products/ (or to nothing)."""
    settings.SHOP_MANAGER = {"WEBSOCKET_PATH": path}
    assert check_ids() == {"shop_manager.E008"}


def test_w004_websocket_path_without_a_trailing_slash(settings):
    """shop_manager.routing's route ends with a slash, so this one finds no route."""
    settings.SHOP_MANAGER = {"WEBSOCKET_PATH": "/ws/products"}
    assert check_ids() == {"shop_manager.W004"}


def test_a_websocket_path_mounted_elsewhere_passes(settings):
    settings.SHOP_MANAGER = {"WEBSOCKET_PATH": "/live/ws/products/"}
    assert check_ids() == set()


@pytest.mark.parametrize("value", ["false", 0, 1, None])
def test_e009_login_required_must_be_a_boolean(settings, value):
    """LOGIN_REQUIRED = "false" is truthy: every page would ask for a login."""
    settings.SHOP_MANAGER = {"LOGIN_REQUIRED": value}
    assert check_ids() == {"shop_manager.E009"}


@pytest.mark.parametrize("key", ["BAKEND", "backend"])
def test_e010_a_misspelt_backend_key_is_named(settings, key):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {"default": {key: CHANNEL_LAYER_NOTIFIER}},
    }
    assert messages_with("shop_manager.E010") == [
        f"SHOP_MANAGER['NOTIFIERS']['default'] has a key {key!r}, "
        "which notifier entries do not use."
    ]
    # The build error says the same, rather than "Could not find backend None".
    assert messages_with("shop_manager.E006") == [
        f"SHOP_MANAGER['NOTIFIERS']['default'] has no 'BACKEND' key "
        f"(it has {key!r}: misspelt?)."
    ]


def test_e010_a_misspelt_options_key(settings):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {"BACKEND": CHANNEL_LAYER_NOTIFIER},
            "audit": {"BACKEND": LOGGING_NOTIFIER, "OPTION": {"LEVEL": "DEBUG"}},
        }
    }
    assert check_ids() == {"shop_manager.E010"}


def test_a_misspelt_backend_key_fails_clearly_at_runtime(settings):
    from shop_manager.notifiers import InvalidNotifierBackendError, notifiers

    settings.SHOP_MANAGER = {"NOTIFIERS": {"audit": {"Backend": LOGGING_NOTIFIER}}}
    with pytest.raises(
        InvalidNotifierBackendError,
        match=r"\['audit'\] has no 'BACKEND' key \(it has 'Backend': misspelt\?\)",
    ):
        notifiers["audit"]


@pytest.mark.parametrize(
    ("backend", "options", "unknown"),
    [
        (CHANNEL_LAYER_NOTIFIER, {"TIMEOUT": 1, "TIMEOUTS": 5}, "TIMEOUTS"),
        (CHANNEL_LAYER_NOTIFIER, {"layer": "default"}, "layer"),
        (LOGGING_NOTIFIER, {"LOGGER": "shop.audit", "LEVLE": "DEBUG"}, "LEVLE"),
        ("shop_manager.notifiers.locmem.LocmemNotifier", {"LAYER": "x"}, "LAYER"),
        # Gone: the notifier sends where the dashboards listen, nowhere else.
        (CHANNEL_LAYER_NOTIFIER, {"GROUP": "elsewhere"}, "GROUP"),
        (CHANNEL_LAYER_NOTIFIER, {"LAYER": "default"}, "LAYER"),
    ],
)
def test_e011_an_option_the_backend_does_not_read(settings, backend, options, unknown):
    """A typo in OPTIONS used to be ignored, leaving the default in force."""
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {"BACKEND": CHANNEL_LAYER_NOTIFIER},
            "extra": {"BACKEND": backend, "OPTIONS": options},
        }
    }
    [message] = messages_with("shop_manager.E011")
    assert f"['extra']['OPTIONS'] has {unknown!r}" in message
    assert check_ids() == {"shop_manager.E011"}


def test_every_documented_option_is_accepted(settings):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {
                "BACKEND": CHANNEL_LAYER_NOTIFIER,
                "OPTIONS": {
                    "TIMEOUT": 1.5,
                    "MAX_BATCH": 10,
                },
            },
            "audit": {
                "BACKEND": LOGGING_NOTIFIER,
                "OPTIONS": {"LOGGER": "shop.audit", "LEVEL": "INFO", "MAX_BATCH": 5},
            },
        }
    }
    assert check_ids() == set()


def test_a_backend_that_declares_no_options_is_not_checked(settings):
    """Custom backends written before accepted_options keep working silently."""
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {"BACKEND": CHANNEL_LAYER_NOTIFIER},
            "hook": {
                "BACKEND": "shop_manager.notifiers.BaseNotifier",
                "OPTIONS": {"URL": "https://example.com/hook"},
            },
        }
    }
    assert check_ids() == set()


@pytest.mark.parametrize(
    "notifiers",
    [
        {},
        {"audit": {"BACKEND": LOGGING_NOTIFIER}},
    ],
    ids=["none", "log-only"],
)
def test_w005_no_notifier_feeds_the_live_dashboard(settings, notifiers):
    """The page would say "Live" yet show changes only at each heartbeat."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        "other": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }
    settings.SHOP_MANAGER = {"NOTIFIERS": notifiers}
    assert check_ids() == {"shop_manager.W005"}


def test_w006_no_asgi_application(settings):
    """Without it runserver is WSGI: the dashboard has no socket to reach."""
    del settings.ASGI_APPLICATION
    assert check_ids() == {"shop_manager.W006"}


def test_w007_channels_not_installed(settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "channels"
    ]
    assert check_ids() == {"shop_manager.W007"}


POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}


@pytest.mark.parametrize(
    "database",
    [
        {**POSTGRES, "OPTIONS": {"pool": True}},
        {**POSTGRES, "OPTIONS": {"pool": {"min_size": 2}}},
        {**POSTGRES, "CONN_MAX_AGE": 60},
        {**POSTGRES, "CONN_MAX_AGE": None},
        {**POSTGRES, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": False},
    ],
    ids=["pool", "pool options", "persistent", "forever", "checks off"],
)
def test_w008_connections_reused_without_a_check(database):
    """Connections kept for reuse and never checked: after a database
    outage the dead ones are handed out again (pages and dashboard
    handshakes answer 500)."""
    from shop_manager.checks import _unchecked_reuse_warnings

    warnings = _unchecked_reuse_warnings({"default": database})

    assert [w.id for w in warnings] == ["shop_manager.W008"]
    assert "DATABASES['default'] reuses connections" in warnings[0].msg


@pytest.mark.parametrize(
    "database",
    [
        POSTGRES,
        {**POSTGRES, "CONN_MAX_AGE": 0},
        {**POSTGRES, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True},
        {**POSTGRES, "OPTIONS": {"pool": True}, "CONN_HEALTH_CHECKS": True},
        {**POSTGRES, "OPTIONS": {"pool": {"check": print}}},
        {**POSTGRES, "OPTIONS": {"pool": False}},
        {"ENGINE": "django.db.backends.sqlite3", "CONN_MAX_AGE": 60},
    ],
    ids=[
        "new each time",
        "max age 0",
        "checked",
        "pool checked",
        "pool's check",
        "pool off",
        "sqlite",
    ],
)
def test_w008_quiet_when_no_connection_outlives_an_outage_unchecked(database):
    from shop_manager.checks import _unchecked_reuse_warnings

    assert _unchecked_reuse_warnings({"default": database}) == []


def test_w008_is_registered():
    database = {**POSTGRES, "CONN_MAX_AGE": 60}
    with (
        pytest.warns(UserWarning, match="Overriding setting DATABASES"),
        override_settings(DATABASES={"default": database}),
    ):
        assert "shop_manager.W008" in check_ids()


SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"


@pytest.mark.parametrize(
    "middleware",
    [[SESSIONS], [SESSIONS, SYNC_CHAIN], [SYNC_CHAIN]],
    ids=["absent", "last", "alone"],
)
def test_w009_quiet_unless_the_sync_chain_is_somewhere_but_last(middleware):
    from shop_manager.checks import _sync_chain_warnings

    assert _sync_chain_warnings(middleware) == []


def test_w009_the_sync_chain_before_other_middleware():
    """The middleware after it would still hop to the event loop per method."""
    from shop_manager.checks import _sync_chain_warnings

    warnings = _sync_chain_warnings([SYNC_CHAIN, SESSIONS])

    assert [w.id for w in warnings] == ["shop_manager.W009"]
    assert SESSIONS in warnings[0].hint


def test_w009_is_registered():
    with override_settings(MIDDLEWARE=[SYNC_CHAIN, *settings.MIDDLEWARE]):
        assert "shop_manager.W009" in check_ids()
